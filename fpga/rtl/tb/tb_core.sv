// Testbench of ahcq_core for Verilator (--binary) and Icarus Verilog (-g2012).
// Run with the case directory as the working directory:
//   cfg.hex      $readmemh words {addr[31:0], data[31:0]}; word 0 holds the number of writes n;
//                optional word n+1 = S, then S words: stall[i] (bit 0) driven in cycle i counted from the
//                first cycle `start` is asserted (start is held until the core is busy); after S, stall = 0
//   rtl_out.txt  written here: "A <bank> <row> <col> <value>" per drained accumulator,
//                "Y <row> <col> <code>" per output, then "STALLS <stalled busy cycles>", "CYCLES <perf counter>"
`timescale 1ns/1ps
module tb_core;
  parameter int R = 4;
  parameter int C = 4;
  parameter int KMAX = 64;
  parameter int NBMAX = 4;
  localparam int MAXW = 65536;
  localparam int TIMEOUT = 1000000;

  logic clk = 0;
  logic rst = 1;
  logic cfg_we = 0;
  logic [31:0] cfg_addr = 0;
  logic [31:0] cfg_data = 0;
  logic start = 0;
  logic stall = 0;
  logic busy, done;
  logic [31:0] cycles;
  logic [C-1:0] out_valid, drn_valid;
  logic [C*16-1:0] out_row, drn_row;
  logic [C*32-1:0] out_code, drn_data;
  logic [C*8-1:0] drn_bank;
  logic [63:0] words [0:MAXW-1];
  integer fd, n, i, guard, ns, nstall;

  ahcq_core #(.R(R), .C(C), .KMAX(KMAX), .NBMAX(NBMAX)) dut (
    .clk(clk), .rst(rst), .cfg_we(cfg_we), .cfg_addr(cfg_addr), .cfg_data(cfg_data), .start(start), .stall(stall),
    .busy(busy), .done(done), .cycles(cycles),
    .out_valid(out_valid), .out_row(out_row), .out_code(out_code),
    .drn_valid(drn_valid), .drn_row(drn_row), .drn_bank(drn_bank), .drn_data(drn_data));

  always #5 clk = ~clk;

  always @(posedge clk) if (!rst && busy && stall) nstall <= nstall + 1;

  always @(negedge clk) begin
    if (!rst) begin
      for (int c = 0; c < C; c++) begin
        if (drn_valid[c]) $fwrite(fd, "A %0d %0d %0d %0d\n", drn_bank[c*8 +: 8], drn_row[c*16 +: 16], c, $signed(drn_data[c*32 +: 32]));
        if (out_valid[c]) $fwrite(fd, "Y %0d %0d %0d\n", out_row[c*16 +: 16], c, $signed(out_code[c*32 +: 32]));
      end
    end
  end

  initial begin
    $readmemh("cfg.hex", words);
    fd = $fopen("rtl_out.txt", "w");
    n = words[0][31:0];
    @(negedge clk);
    rst = 0;
    for (i = 1; i <= n; i = i + 1) begin
      cfg_we = 1;
      cfg_addr = words[i][63:32];
      cfg_data = words[i][31:0];
      @(negedge clk);
    end
    cfg_we = 0;
    ns = words[n + 1][31:0];
    if (^words[n + 1] === 1'bx) ns = 0;  // no stall section (Icarus leaves unread words X)
    nstall = 0;
    start = 1;
    guard = 0;
    stall = (ns > 0) ? words[n + 2][0] : 1'b0;
    @(negedge clk);
    while (!done && guard < TIMEOUT) begin
      if (busy) start = 0;
      guard = guard + 1;
      stall = (guard < ns) ? words[n + 2 + guard][0] : 1'b0;
      @(negedge clk);
    end
    stall = 0;
    #1;
    if (done) begin
      $fwrite(fd, "STALLS %0d\n", nstall);
      $fwrite(fd, "CYCLES %0d\n", cycles);
    end
    else $fwrite(fd, "TIMEOUT\n");
    $fclose(fd);
    $finish;
  end
endmodule
