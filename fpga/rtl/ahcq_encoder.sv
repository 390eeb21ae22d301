// AHCQ-SAM threshold encoder unit: code(x) = #{k : x >= theta[k]} over a non-decreasing float32 table
// (uniform, HLUQ and LNQ encoders alike; src/int/threshold-encoder.ts#encodeByThresholds), computed by
// a pipelined binary search with one comparator level per stage and one value per cycle.
// Plain SystemVerilog-2012 (Verilator 5 and Icarus Verilog -g2012). Project design, not the paper's.
// Timeline and perf counter: hw-model/src/encoder.ts (stepped model) and latency.ts#encoderCycles:
//   cycle 0 (t = 0)          START: `start` sampled, the job is latched
//   cycle t = 1 .. n         x[t-1] is read from the input buffer and passes level 1 into stage 1
//   level j = 1 .. D         b = D - j; probe = lo + 2^b - 1; lo += 2^b when probe < nthr and x >= theta[probe]
//   stage D                  the code register: out_valid / out_idx / out_code, written at the end of
//                            the cycle of level D (cycle t + D - 1)
//   cycles = n + D, D = ceil(log2(nthr + 1)) (nthr >= 1 thresholds, L = nthr + 1 codes)
// Comparison: IEEE-754 `>=` on float32 bit patterns through the order-preserving key
// key(u) = u[31] ? -u[30:0] : u[30:0] (so -0 == +0); a NaN input reaches no threshold (code 0). The
// thresholds are never NaN (precondition of the table; +inf marks a code that is never reached).
// Stall (clock enable low): every register of the job holds and nothing is written; only the perf
// counter of a running job advances. An idle unit does not accept `start` in a stalled cycle.
module ahcq_encoder #(
  parameter int XMAX = 4096,
  parameter int DMAX = 8
) (
  input  logic        clk,
  input  logic        rst,
  input  logic        cfg_we,
  input  logic [31:0] cfg_addr,
  input  logic [31:0] cfg_data,
  input  logic        start,
  input  logic        stall,
  output logic        busy,
  output logic        done,
  output logic [31:0] cycles,
  output logic        out_valid,
  output logic [31:0] out_idx,
  output logic [15:0] out_code
);
  // ---- address map -------------------------------------------------------------------------
  // 0x00000 + i : x[i] (float32 bits)   0x10000 + k : theta[k] (float32 bits)
  // 0x20000 : n (values)   0x20001 : nthr (thresholds, 1 .. 2^DMAX - 1)
  localparam int TMAX = (1 << DMAX) - 1;

  logic [31:0] xbuf [0:XMAX-1];
  logic [31:0] thr  [0:TMAX-1];
  logic [31:0] n, nthr;

  always_ff @(posedge clk) begin
    if (cfg_we) begin
      if (cfg_addr < 32'h10000) xbuf[cfg_addr[15:0]] <= cfg_data;
      else if (cfg_addr < 32'h20000) thr[cfg_addr[15:0]] <= cfg_data;
      else if (cfg_addr == 32'h20000) n <= cfg_data;
      else if (cfg_addr == 32'h20001) nthr <= cfg_data;
    end
  end

  // depth D = ceil(log2(nthr + 1))
  function automatic logic [4:0] depth_of(input logic [31:0] m);
    logic [4:0] d;
    d = 0;
    for (int i = 0; i <= DMAX; i++)
      if ((33'd1 << d) < 33'(m) + 33'd1) d = d + 1;
    return d;
  endfunction
  wire [4:0] depth = depth_of(nthr);

  function automatic logic signed [32:0] key(input logic [31:0] u);
    key = u[31] ? -$signed({2'b00, u[30:0]}) : $signed({2'b00, u[30:0]});
  endfunction

  function automatic logic ge(input logic [31:0] a, input logic [31:0] b);
    if (a[30:23] == 8'hff && a[22:0] != 0) ge = 1'b0;  // NaN
    else ge = key(a) >= key(b);
  endfunction

  // ---- controller ---------------------------------------------------------------------------
  logic [31:0] t, perf, t_last;
  assign t_last = n + 32'(depth) - 1;
  wire go = !busy && start && !stall;
  wire rd = busy && t >= 1 && t <= n;

  // ---- pipeline: stage j (0-based) holds the state after level j + 1 ------------------------
  logic        sv   [0:DMAX-1];
  logic [31:0] sx   [0:DMAX-1];
  logic [15:0] slo  [0:DMAX-1];
  logic [31:0] sidx [0:DMAX-1];
  logic        nv   [0:DMAX-1];
  logic [31:0] nx   [0:DMAX-1];
  logic [15:0] nlo  [0:DMAX-1];
  logic [31:0] nidx [0:DMAX-1];

  always_comb begin
    for (int j = 0; j < DMAX; j++) begin : lvl
      logic [31:0] x, probe, half;
      logic [15:0] lo;
      logic        v;
      if (j == 0) begin v = rd; x = rd ? xbuf[t - 1] : 32'd0; lo = 0; nidx[j] = t - 1; end
      else begin v = sv[j-1]; x = sx[j-1]; lo = slo[j-1]; nidx[j] = sidx[j-1]; end
      half = (j < 32'(depth)) ? (32'd1 << (32'(depth) - 1 - j)) : 32'd0;
      probe = 32'(lo) + half - 1;
      nv[j] = v && (j < 32'(depth));
      nx[j] = x;
      nlo[j] = (half != 0 && probe < nthr && ge(x, thr[probe[DMAX-1:0]])) ? lo + 16'(half) : lo;
    end
  end

  always_ff @(posedge clk) begin
    if (rst || go) begin
      for (int j = 0; j < DMAX; j++) sv[j] <= 0;
      out_valid <= 0;
    end else if (stall || !busy) begin
      out_valid <= 0;  // frozen (or idle): every stage register holds, nothing is written
    end else begin
      for (int j = 0; j < DMAX; j++) begin
        sv[j] <= nv[j]; sx[j] <= nx[j]; slo[j] <= nlo[j]; sidx[j] <= nidx[j];
      end
      out_valid <= nv[depth - 1];
      out_idx <= nidx[depth - 1];
      out_code <= nlo[depth - 1];
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 0; done <= 0; t <= 0; perf <= 0; cycles <= 0;
    end else if (!busy) begin
      done <= 0;
      if (go) begin busy <= 1; t <= 1; perf <= 1; end
    end else begin
      perf <= perf + 1;  // counts stalled cycles too
      if (!stall) begin
        t <= t + 1;
        if (t == t_last) begin busy <= 0; done <= 1; cycles <= perf + 1; end
      end
    end
  end
endmodule
