// AHCQ-SAM compute core: R x C output-stationary PE array with row decoders (uniform, CAG, HLUQ,
// LNQ), column decoders (W - zw), per-column requant pipeline (PPU) and a cycle counter.
// Plain SystemVerilog-2012 (Verilator 5 and Icarus Verilog -g2012). Project design, not the paper's
// (unpublished) micro-architecture. Timeline and integer semantics: hw-model/src/latency.ts, tile.ts
// and docs/integer-datapath.md; the perf counter `cycles` equals hw-model's tileCycles exactly.
//
// Timeline (t = progress index; the cycle in which `start` is sampled is t = 0, START):
//   t = 1 .. K+R+C-2          compute: row r gets A[r][t-1-r], column c gets B[c][t-1-c]
//   t = K+R+C-1 .. +R*nb-1     drain: each column reads acc[drow][c][dbank] into PPU stage 1
//   +2 cycles                  PPU stage 2 (apply_scale), stage 3 (+zy, saturate, write)
//
// Accumulator-load path (standalone requant, hw-model/src/latency.ts#accLoadCycles): with register 11
// (acc_only) set, the accumulators written through the load port (0x30000 …) before `start` are kept at
// START and there is no compute phase: t = 1 .. R*nb drain, then the two PPU stages; cycles = 1 + R*nb + 2.
//
// Configuration: word writes on (cfg_addr, cfg_data) before `start` (address map below).
//
// Stall (clock enable low, hw-model/src/tile.ts#step {stall}): while `stall` is high every register of
// the job holds (operands, accumulators, PPU stages, progress index t, drain counters) and no output or
// drain record is written; only the perf counter of a running job advances. An idle core does not
// accept `start` in a stalled cycle (the host keeps `start` high until `busy`). Hence
// cycles = T_tile (closed form) + number of stalled cycles while busy.
module ahcq_core #(
  parameter int R = 4,
  parameter int C = 4,
  parameter int KMAX = 64,
  parameter int NBMAX = 4
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              cfg_we,
  input  logic [31:0]       cfg_addr,
  input  logic [31:0]       cfg_data,
  input  logic              start,
  input  logic              stall,
  output logic              busy,
  output logic              done,
  output logic [31:0]       cycles,
  output logic [C-1:0]      out_valid,
  output logic [C*16-1:0]   out_row,
  output logic [C*32-1:0]   out_code,
  output logic [C-1:0]      drn_valid,
  output logic [C*16-1:0]   drn_row,
  output logic [C*8-1:0]    drn_bank,
  output logic [C*32-1:0]   drn_data
);
  // ---- address map -------------------------------------------------------------------------
  // 0x00000 + r*KMAX + k : A code     0x10000 + c*KMAX + k : B code
  // 0x20000 + i : 0 mode (0 uniform, 1 cag, 2 hluq, 3 lnq), 1 K, 2 M, 3 N, 4 za, 5 lLog, 6 gb,
  //               7 nb, 8 zy, 9 lo, 10 hi, 11 acc_only (1: drain-only job on loaded accumulators; reset 0)
  // 0x20100 + g : group start   0x20200 + g : group zp   0x20300 + b : combine multiplier gm[b]
  // 0x20400 + c : zb            0x20500 + c : bias       0x20600 + c : mult   0x20700 + c : shift
  // 0x20800 + q : LNQ decoder table D[q]  0x20900 + c : bias bits 63..32 (bias is 64-bit, |bias| <= 2^36)
  // 0x30000 + (r*C + c)*NBMAX + b : accumulator load, PE(r, c) bank b (int32)

  logic [7:0]         abuf [0:R*KMAX-1];
  logic [7:0]         bbuf [0:C*KMAX-1];
  logic [1:0]         mode;
  logic [15:0]        K, M, N;
  logic [7:0]         za, lLog;
  logic [4:0]         gb;
  logic [4:0]         nb;
  logic [15:0]        gstart [0:NBMAX];
  logic [7:0]         gzp [0:NBMAX-1];
  logic signed [31:0] gm [0:NBMAX-1];
  logic [7:0]         zb [0:C-1];
  logic signed [63:0] bias [0:C-1];
  logic [31:0]        mult [0:C-1];
  logic [5:0]         shift [0:C-1];
  logic signed [31:0] zy, lo, hi;
  logic [16:0]        lnq [0:255];
  logic               acc_only;

  always_ff @(posedge clk) begin
    if (rst) acc_only <= 0;
    else if (cfg_we && cfg_addr == 32'h2000b) acc_only <= cfg_data[0];
  end
  wire acc_we = cfg_we && cfg_addr >= 32'h30000 && cfg_addr < 32'h30000 + R * C * NBMAX;

  always_ff @(posedge clk) begin
    if (cfg_we) begin
      if (cfg_addr < 32'h10000) abuf[cfg_addr[15:0]] <= cfg_data[7:0];
      else if (cfg_addr < 32'h20000) bbuf[cfg_addr[15:0]] <= cfg_data[7:0];
      else if (cfg_addr < 32'h20100) begin
        case (cfg_addr[7:0])
          8'd0: mode <= cfg_data[1:0];
          8'd1: K <= cfg_data[15:0];
          8'd2: M <= cfg_data[15:0];
          8'd3: N <= cfg_data[15:0];
          8'd4: za <= cfg_data[7:0];
          8'd5: lLog <= cfg_data[7:0];
          8'd6: gb <= cfg_data[4:0];
          8'd7: nb <= cfg_data[4:0];
          8'd8: zy <= cfg_data;
          8'd9: lo <= cfg_data;
          8'd10: hi <= cfg_data;
          default: ;
        endcase
      end
      else if (cfg_addr < 32'h20200) gstart[cfg_addr[7:0]] <= cfg_data[15:0];
      else if (cfg_addr < 32'h20300) gzp[cfg_addr[7:0]] <= cfg_data[7:0];
      else if (cfg_addr < 32'h20400) gm[cfg_addr[7:0]] <= cfg_data;
      else if (cfg_addr < 32'h20500) zb[cfg_addr[7:0]] <= cfg_data[7:0];
      else if (cfg_addr < 32'h20600) bias[cfg_addr[7:0]][31:0] <= cfg_data;
      else if (cfg_addr < 32'h20700) mult[cfg_addr[7:0]] <= cfg_data;
      else if (cfg_addr < 32'h20800) shift[cfg_addr[7:0]] <= cfg_data[5:0];
      else if (cfg_addr < 32'h20900) lnq[cfg_addr[7:0]] <= cfg_data[16:0];
      else if (cfg_addr < 32'h20a00) bias[cfg_addr[7:0]][63:32] <= cfg_data;
    end
  end

  // ---- controller ---------------------------------------------------------------------------
  logic [31:0] t, perf;
  logic [31:0] t_drain, t_last;
  logic [15:0] drow;
  logic [4:0]  dbank;
  assign t_drain = acc_only ? 32'd1 : 32'(K) + R + C - 1;
  assign t_last  = t_drain + R * 32'(nb) + 1;
  wire computing = busy && (t >= 1) && (t < t_drain);
  wire draining  = busy && (t >= t_drain) && (t < t_drain + R * 32'(nb));
  wire [31:0] tc = t - 1;
  wire go = !busy && start && !stall;  // START cycle: the job is latched

  // ---- row / column feeders with decoders (combinational buffer reads) ------------------------
  logic signed [17:0] ea_val [0:R-1];
  logic [3:0]         ea_tag [0:R-1];
  logic signed [9:0]  eb [0:C-1];

  function automatic logic [3:0] group_of(input logic [31:0] k);
    group_of = 0;
    for (int j = 1; j < NBMAX; j++)
      if (j < 32'(nb) && 32'(gstart[j]) <= k) group_of = group_of + 1;
  endfunction

  always_comb begin
    for (int r = 0; r < R; r++) begin : row_dec
      logic [31:0] k;
      logic [7:0]  code;
      logic [3:0]  g;
      k = tc - r;
      code = 0;
      g = 0;
      ea_val[r] = 0;
      ea_tag[r] = 0;
      if (computing && r < 32'(M) && tc >= r && k < 32'(K)) begin
        code = abuf[r * KMAX + k];
        case (mode)
          2'd0: ea_val[r] = 18'(code) - 18'(za);
          2'd1: begin
            g = group_of(k);
            ea_val[r] = 18'(code) - 18'(gzp[g]);
            ea_tag[r] = g;
          end
          2'd2: begin
            if (code == 0) ;
            else if (code < lLog) begin ea_val[r] = 18'(lLog) - 18'(code); ea_tag[r] = 4'd1; end
            else begin ea_val[r] = 18'(code) - 18'(lLog); ea_tag[r] = 4'd2; end
          end
          default: ea_val[r] = 18'(lnq[code]);
        endcase
      end
    end
    for (int c = 0; c < C; c++) begin : col_dec
      logic [31:0] k;
      k = tc - c;
      eb[c] = 0;
      if (computing && c < 32'(N) && tc >= c && k < 32'(K))
        eb[c] = 10'(bbuf[c * KMAX + k]) - 10'(zb[c]);
    end
  end

  // ---- PE array (output stationary) ---------------------------------------------------------
  logic signed [17:0] av [0:R*C-1];
  logic [3:0]         at [0:R*C-1];
  logic signed [9:0]  bv [0:R*C-1];
  logic signed [31:0] acc [0:R*C*NBMAX-1];
  logic signed [17:0] ain [0:R*C-1];
  logic [3:0]         tin [0:R*C-1];
  logic signed [9:0]  bin [0:R*C-1];

  always_comb begin
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) begin
        ain[r*C+c] = (c == 0) ? ea_val[r] : av[r*C+c-1];
        tin[r*C+c] = (c == 0) ? ea_tag[r] : at[r*C+c-1];
        bin[r*C+c] = (r == 0) ? eb[c] : bv[(r-1)*C+c];
      end
  end

  always_ff @(posedge clk) begin
    if (rst || go) begin
      for (int i = 0; i < R*C; i++) begin
        av[i] <= 0; at[i] <= 0; bv[i] <= 0;
      end
      if (rst || !acc_only)  // a drain-only job keeps the loaded accumulators
        for (int i = 0; i < R*C*NBMAX; i++) acc[i] <= 0;
    end else if (acc_we) begin
      acc[cfg_addr[15:0]] <= cfg_data;
    end else if (computing && !stall) begin
      for (int i = 0; i < R*C; i++) begin : pe
        logic signed [31:0] a32, b32, sh;
        av[i] <= ain[i]; at[i] <= tin[i]; bv[i] <= bin[i];
        a32 = 32'(ain[i]);
        b32 = 32'(bin[i]);
        if (mode == 2'd2) begin
          if (tin[i] == 4'd1) begin
            sh = (b32 <<< gb) >>> ((a32 > 31) ? 31 : a32);
            acc[i*NBMAX] <= acc[i*NBMAX] + sh;
          end else if (tin[i] == 4'd2) begin
            acc[i*NBMAX] <= acc[i*NBMAX] + (b32 <<< gb);
            acc[i*NBMAX+1] <= acc[i*NBMAX+1] + a32 * b32;
          end
        end else begin
          acc[i*NBMAX + 32'(tin[i])] <= acc[i*NBMAX + 32'(tin[i])] + a32 * b32;
        end
      end
    end
  end

  // ---- per-column PPU -----------------------------------------------------------------------
  logic               s1v [0:C-1];
  logic [15:0]        s1row [0:C-1];
  logic signed [63:0] comb [0:C-1];
  logic               s2v [0:C-1];
  logic [15:0]        s2row [0:C-1];
  logic signed [63:0] s2val [0:C-1];

  always_ff @(posedge clk) begin
    if (rst || go) begin
      for (int c = 0; c < C; c++) begin
        s1v[c] <= 0; s2v[c] <= 0; comb[c] <= 0;
      end
      out_valid <= 0;
      drn_valid <= 0;
    end else if (stall) begin
      out_valid <= 0;  // frozen: every PPU register holds, nothing is written
      drn_valid <= 0;
    end else begin
      for (int c = 0; c < C; c++) begin : ppu
        logic signed [63:0] v, prod, y;
        logic signed [31:0] value;
        // stage 3: + zy, saturate, write
        out_valid[c] <= s2v[c];
        if (s2v[c]) begin
          y = s2val[c] + 64'(zy);
          if (y < 64'(lo)) y = 64'(lo);
          if (y > 64'(hi)) y = 64'(hi);
          out_row[c*16 +: 16] <= s2row[c];
          out_code[c*32 +: 32] <= y[31:0];
        end
        // stage 2: apply_scale(comb + bias, mult, shift), round half up, arithmetic shift
        s2v[c] <= s1v[c];
        s2row[c] <= s1row[c];
        if (s1v[c]) begin
          v = comb[c] + bias[c];
          prod = v * $signed({32'd0, mult[c]}) + (64'sd1 <<< (shift[c] - 1));
          s2val[c] <= prod >>> shift[c];
        end
        // stage 1: drain read and bank combine
        drn_valid[c] <= 0;
        s1v[c] <= 0;
        if (draining) begin
          value = acc[(32'(drow) * C + c) * NBMAX + 32'(dbank)];
          comb[c] <= ((dbank == 0) ? 64'sd0 : comb[c]) + 64'(gm[dbank]) * 64'(value);
          s1v[c] <= (32'(dbank) == 32'(nb) - 1) && (drow < M) && (c < 32'(N));
          s1row[c] <= drow;
          drn_valid[c] <= (drow < M) && (c < 32'(N));
          drn_row[c*16 +: 16] <= drow;
          drn_bank[c*8 +: 8] <= 8'(dbank);
          drn_data[c*32 +: 32] <= value;
        end
      end
    end
  end

  // ---- controller sequencing and perf counter -------------------------------------------------
  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 0; done <= 0; t <= 0; perf <= 0; cycles <= 0; drow <= 0; dbank <= 0;
    end else if (!busy) begin
      done <= 0;
      if (go) begin
        busy <= 1; t <= 1; perf <= 1; drow <= 0; dbank <= 0;
      end
    end else begin
      perf <= perf + 1;  // counts stalled cycles too
      if (!stall) begin
        t <= t + 1;
        if (draining) begin
          if (32'(dbank) == 32'(nb) - 1) begin dbank <= 0; drow <= drow + 1; end
          else dbank <= dbank + 1;
        end
        if (t == t_last) begin
          busy <= 0; done <= 1; cycles <= perf + 1;
        end
      end
    end
  end
endmodule
