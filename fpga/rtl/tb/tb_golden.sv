// Golden-vector testbench of ahcq_core and ahcq_encoder for Verilator (--binary) and Icarus Verilog (-g2012).
// Replays one committed case of fixtures/golden (format ahcq-golden/1, docs/formats/golden-vectors.md):
//   +case=<dir>     the case directory: x.hex, w.hex (inputs) and acc.hex | acc_log.hex + acc_uni.hex,
//                   y.hex (expected outputs) are read here with $readmemh, unchanged; for a requant case
//                   acc.hex (input) and y.hex; for an encode case x.hex (float32 bits) and q.hex
//   +xname=<n> +qname=<n>  encode mode: the input / expected-code tensor names (default x, q; the
//                   encoder stage of another op, e.g. gelu + q of gelu_hluq, p + p_codes of lnq_attention)
//   +xname +wname +accname +yname  GEMM modes: the tensor names (default x, w, acc, y; e.g. q, k, s_acc for
//                   QKᵀ and p_codes, v, pv_acc, y for P·V of lnq_attention; image word f = 1 reads w as [K, N])
//   +params=<file>  the case's desc.json params as a word image (hw-model/src/rtl-golden.ts#rtlGoldenParams)
//   +stall_pct=<p>  optional: stall the core in p % of the cycles of every job (xorshift32, +seed=<s>)
// Modes (parameter image word 1): 0 uniform, 1 cag, 2 hluq, 3 lnq GEMM (LNQ table from image @7000); 4 requant: the same tiling, each tile's
// accumulators written through the core's accumulator-load port (acc_only = 1: no compute phase), the
// drained values checked against the loaded ones and y against y.hex; 5 encode: the whole stream through
// ahcq_encoder (threshold table from the image), codes checked against q.hex, one job.
// The [M, K] x [N, K] GEMM is cut into R x C tiles (column blocks outer, row blocks inner; the B operands
// and per-column parameters are written only when the column block changes). Each tile's operands go
// through the core's configuration port, the job runs, and the drained accumulators and output codes are
// collected at their global indices. The design's perf counter is summed over the tiles.
// Prints "MISMATCH …" lines (first 10) and one line
//   RESULT tiles=<n> acc_mismatch=<n> y_mismatch=<n> missing=<n> cycles=<Σ counter> stalls=<n> expected=<desc.json> closed=<Σ T_tile>
// followed by PASS or FAIL: PASS iff every value is bit-exact and cycles == closed + stalls, and with no
// stalls also cycles == expected (expected.cycles.tiles of desc.json; ffffffff = not recorded).
`timescale 1ns/1ps
module tb_golden;
  parameter int R = 8;
  parameter int C = 8;
  parameter int KMAX = 512;
  parameter int NBMAX = 4;
  localparam int MAXE = 65536;
  localparam int TIMEOUT = 10000000;

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

  logic [31:0] prm  [0:32'h7fff];
  logic [7:0]  xmem [0:MAXE-1];
  logic [7:0]  wmem [0:MAXE-1];
  logic [31:0] eacc [0:MAXE-1];
  logic [31:0] ey   [0:MAXE-1];
  logic [31:0] gacc [0:MAXE-1];
  logic [31:0] gy   [0:MAXE-1];
  logic [7:0]  sacc [0:MAXE-1];
  logic [7:0]  sy   [0:MAXE-1];
  logic [31:0] iacc [0:MAXE-1];
  logic [31:0] xf   [0:MAXE-1];
  string xname, qname, wname, accname, yname;
  logic ecfg_we = 0;
  logic estart = 0;
  logic estall = 0;
  logic ebusy, edone, eout_valid;
  logic [31:0] ecycles, eout_idx;
  logic [15:0] eout_code;

  string casedir, pfile;
  integer mode, M, N, K, nb, requant, m0, n0, tm, tn, ntiles, total, nstall, stall_pct, guard;
  integer acc_bad, y_bad, missing, shown, idx;
  logic [31:0] rng;

  ahcq_core #(.R(R), .C(C), .KMAX(KMAX), .NBMAX(NBMAX)) dut (
    .clk(clk), .rst(rst), .cfg_we(cfg_we), .cfg_addr(cfg_addr), .cfg_data(cfg_data), .start(start), .stall(stall),
    .busy(busy), .done(done), .cycles(cycles),
    .out_valid(out_valid), .out_row(out_row), .out_code(out_code),
    .drn_valid(drn_valid), .drn_row(drn_row), .drn_bank(drn_bank), .drn_data(drn_data));

  ahcq_encoder #(.XMAX(MAXE), .DMAX(8)) enc (
    .clk(clk), .rst(rst), .cfg_we(ecfg_we), .cfg_addr(cfg_addr), .cfg_data(cfg_data), .start(estart), .stall(estall),
    .busy(ebusy), .done(edone), .cycles(ecycles), .out_valid(eout_valid), .out_idx(eout_idx), .out_code(eout_code));

  always #5 clk = ~clk;

  always @(posedge clk) if (!rst && ((busy && stall) || (ebusy && estall))) nstall <= nstall + 1;

  // Collect drained accumulators [bank, M, N] and output codes [M, N] at their global indices.
  always @(negedge clk) begin
    if (!rst) begin
      for (int c = 0; c < C; c++) begin
        if (drn_valid[c]) begin
          idx = (32'(drn_bank[c*8 +: 8]) * M + m0 + 32'(drn_row[c*16 +: 16])) * N + n0 + c;
          gacc[idx] = drn_data[c*32 +: 32];
          sacc[idx] = sacc[idx] + 1;
        end
        if (out_valid[c]) begin
          idx = (m0 + 32'(out_row[c*16 +: 16])) * N + n0 + c;
          gy[idx] = out_code[c*32 +: 32];
          sy[idx] = sy[idx] + 1;
        end
      end
      if (eout_valid) begin
        gy[eout_idx] = 32'(eout_code);
        sy[eout_idx] = sy[eout_idx] + 1;
      end
    end
  end

  task automatic wr(input logic [31:0] a, input logic [31:0] d);
    cfg_we = 1; cfg_addr = a; cfg_data = d;
    @(negedge clk);
    cfg_we = 0;
  endtask

  task automatic ewr(input logic [31:0] a, input logic [31:0] d);
    ecfg_we = 1; cfg_addr = a; cfg_data = d;
    @(negedge clk);
    ecfg_we = 0;
  endtask

  // Encode mode: the stream x (n values) through ahcq_encoder with the image's threshold table.
  task automatic run_encoder;
    integer n, nthr;
    n = prm[2]; nthr = prm[3];
    if (n > MAXE || nthr > 255) begin $display("ERROR: n=%0d / nthr=%0d exceed the encoder (MAXE=%0d, 255)", n, nthr, MAXE); $finish; end
    $readmemh({casedir, "/", xname, ".hex"}, xf, 0, n - 1);
    $readmemh({casedir, "/", qname, ".hex"}, ey, 0, n - 1);
    for (int i = 0; i < n; i++) begin sy[i] = 0; gy[i] = 0; end
    for (int i = 0; i < n; i++) ewr(i, xf[i]);
    for (int k = 0; k < nthr; k++) ewr(32'h10000 + k, prm[32'h100 + k]);
    ewr(32'h20000, n); ewr(32'h20001, nthr);
    estart = 1;
    guard = 0;
    estall = 0;
    if (stall_pct > 0) begin rng = xorshift(rng); estall = (rng % 100) < stall_pct; end
    @(negedge clk);
    while (!edone && guard < TIMEOUT) begin
      if (ebusy) estart = 0;
      guard = guard + 1;
      estall = 0;
      if (stall_pct > 0) begin rng = xorshift(rng); estall = (rng % 100) < stall_pct; end
      @(negedge clk);
    end
    estall = 0;
    if (!edone) begin $display("ERROR: encoder job timed out"); $finish; end
    total = ecycles;
    ntiles = 1;
    @(negedge clk);
    y_bad = 0; missing = 0; shown = 0;
    for (int i = 0; i < n; i++) begin
      if (sy[i] != 1) missing = missing + 1;
      else if (gy[i] !== ey[i]) begin
        y_bad = y_bad + 1;
        if (shown < 10) begin $display("MISMATCH q[%0d] got %0d expected %0d", i, gy[i], ey[i]); shown = shown + 1; end
      end
    end
  endtask

  function automatic logic [31:0] xorshift(input logic [31:0] s);
    logic [31:0] v;
    v = s ^ (s << 13);
    v = v ^ (v >> 17);
    return v ^ (v << 5);
  endfunction

  initial begin
    if (!$value$plusargs("case=%s", casedir)) begin $display("ERROR: +case=<dir> missing"); $finish; end
    if (!$value$plusargs("params=%s", pfile)) begin $display("ERROR: +params=<file> missing"); $finish; end
    if (!$value$plusargs("stall_pct=%d", stall_pct)) stall_pct = 0;
    if (!$value$plusargs("seed=%d", rng)) rng = 32'h2545f491;
    if (!$value$plusargs("xname=%s", xname)) xname = "x";
    if (!$value$plusargs("qname=%s", qname)) qname = "q";
    if (!$value$plusargs("wname=%s", wname)) wname = "w";
    if (!$value$plusargs("accname=%s", accname)) accname = "acc";
    if (!$value$plusargs("yname=%s", yname)) yname = "y";
    if (rng == 0) rng = 1;
    $readmemh(pfile, prm);
    if (prm[0] !== 32'h41484351) begin $display("ERROR: %s is not a parameter image (magic %h)", pfile, prm[0]); $finish; end
    mode = prm[1]; M = prm[2]; N = prm[3]; K = prm[4]; nb = prm[8]; requant = prm[12];
    m0 = 0; n0 = 0; ntiles = 0; total = 0; nstall = 0; acc_bad = 0;
    if (mode == 5) begin
      @(negedge clk);
      rst = 0;
      run_encoder();
      $display("RESULT tiles=%0d acc_mismatch=%0d y_mismatch=%0d missing=%0d cycles=%0d stalls=%0d expected=%0d closed=%0d",
               ntiles, acc_bad, y_bad, missing, total, nstall, prm[13], prm[14]);
      if (y_bad == 0 && missing == 0 && total == prm[14] + nstall && (nstall != 0 || prm[13] == 32'hffffffff || total == prm[13]))
        $display("PASS");
      else $display("FAIL");
      $finish;
    end
    if (K > KMAX || nb > NBMAX || (mode == 4 && nb != 1)) begin $display("ERROR: K=%0d / nb=%0d exceed KMAX=%0d / NBMAX=%0d", K, nb, KMAX, NBMAX); $finish; end
    if (K > 0) begin
      $readmemh({casedir, "/", xname, ".hex"}, xmem, 0, M * K - 1);
      $readmemh({casedir, "/", wname, ".hex"}, wmem, 0, N * K - 1);
    end
    if (mode == 4) begin
      $readmemh({casedir, "/acc.hex"}, iacc, 0, M * N - 1);  // input; the drain must read it back unchanged
      $readmemh({casedir, "/acc.hex"}, eacc, 0, M * N - 1);
    end else if (mode == 2) begin
      $readmemh({casedir, "/acc_log.hex"}, eacc, 0, M * N - 1);
      $readmemh({casedir, "/acc_uni.hex"}, eacc, M * N, 2 * M * N - 1);
    end else $readmemh({casedir, "/", accname, ".hex"}, eacc, 0, nb * M * N - 1);
    if (requant != 0) $readmemh({casedir, "/", yname, ".hex"}, ey, 0, M * N - 1);
    for (int i = 0; i < nb * M * N; i++) begin sacc[i] = 0; gacc[i] = 0; end
    for (int i = 0; i < M * N; i++) begin sy[i] = 0; gy[i] = 0; end
    @(negedge clk);
    rst = 0;
    // job-invariant registers
    wr(32'h20000, prm[1] & 3); wr(32'h2000b, (mode == 4) ? 1 : 0); wr(32'h20001, prm[4]); wr(32'h20004, prm[5]); wr(32'h20005, prm[6]);
    wr(32'h20006, prm[7]); wr(32'h20007, prm[8]); wr(32'h20008, prm[9]); wr(32'h20009, prm[10]);
    wr(32'h2000a, prm[11]);
    for (int g = 0; g <= nb; g++) wr(32'h20100 + g, prm[32'h20 + g]);
    for (int g = 0; g < nb; g++) begin wr(32'h20200 + g, 0); wr(32'h20300 + g, prm[32'h40 + g]); end  // CAG zero points are folded into the bias
    if (mode == 3) for (int q = 0; q < prm[16] && q < 256; q++) wr(32'h20800 + q, prm[32'h7000 + q]);  // LNQ decoder table
    for (n0 = 0; n0 < N; n0 = n0 + C) begin
      tn = (N - n0 < C) ? N - n0 : C;
      wr(32'h20003, tn);
      for (int c = 0; c < tn; c++) begin
        for (int k = 0; k < K; k++) wr(32'h10000 + c * KMAX + k, 32'(prm[15] != 0 ? wmem[k * N + n0 + c] : wmem[(n0 + c) * K + k]));
        wr(32'h20400 + c, prm[32'h2000 + n0 + c]);
        wr(32'h20500 + c, prm[32'h3000 + n0 + c]);
        wr(32'h20900 + c, prm[32'h4000 + n0 + c]);
        wr(32'h20600 + c, prm[32'h5000 + n0 + c]);
        wr(32'h20700 + c, prm[32'h6000 + n0 + c]);
      end
      for (m0 = 0; m0 < M; m0 = m0 + R) begin
        tm = (M - m0 < R) ? M - m0 : R;
        wr(32'h20002, tm);
        for (int r = 0; r < tm; r++)
          for (int k = 0; k < K; k++) wr(r * KMAX + k, 32'(xmem[(m0 + r) * K + prm[32'h1000 + k]]));  // CAG: gather through perm
        if (mode == 4)  // accumulator-load port: PE(r, c) bank 0
          for (int r = 0; r < tm; r++)
            for (int c = 0; c < tn; c++) wr(32'h30000 + (r * C + c) * NBMAX, iacc[(m0 + r) * N + n0 + c]);
        // run the tile; start is held until the core is busy
        start = 1;
        guard = 0;
        stall = 0;
        if (stall_pct > 0) begin rng = xorshift(rng); stall = (rng % 100) < stall_pct; end
        @(negedge clk);
        while (!done && guard < TIMEOUT) begin
          if (busy) start = 0;
          guard = guard + 1;
          stall = 0;
          if (stall_pct > 0) begin rng = xorshift(rng); stall = (rng % 100) < stall_pct; end
          @(negedge clk);
        end
        stall = 0;
        if (!done) begin $display("ERROR: tile (m0=%0d, n0=%0d) timed out", m0, n0); $finish; end
        total = total + cycles;
        ntiles = ntiles + 1;
        @(negedge clk);
      end
    end
    acc_bad = 0; y_bad = 0; missing = 0; shown = 0;
    for (int i = 0; i < nb * M * N; i++) begin
      if (sacc[i] != 1) missing = missing + 1;
      else if (gacc[i] !== eacc[i]) begin
        acc_bad = acc_bad + 1;
        if (shown < 10) begin $display("MISMATCH acc[%0d] got %0d expected %0d", i, $signed(gacc[i]), $signed(eacc[i])); shown = shown + 1; end
      end
    end
    if (requant != 0)
      for (int i = 0; i < M * N; i++) begin
        if (sy[i] != 1) missing = missing + 1;
        else if (gy[i] !== ey[i]) begin
          y_bad = y_bad + 1;
          if (shown < 10) begin $display("MISMATCH y[%0d] got %0d expected %0d", i, $signed(gy[i]), ey[i]); shown = shown + 1; end
        end
      end
    $display("RESULT tiles=%0d acc_mismatch=%0d y_mismatch=%0d missing=%0d cycles=%0d stalls=%0d expected=%0d closed=%0d",
             ntiles, acc_bad, y_bad, missing, total, nstall, prm[13], prm[14]);
    if (acc_bad == 0 && y_bad == 0 && missing == 0 && total == prm[14] + nstall && (nstall != 0 || prm[13] == 32'hffffffff || total == prm[13]))
      $display("PASS");
    else $display("FAIL");
    $finish;
  end
endmodule
