// Resource probe: one output-stationary PE for synthesis estimates (Yosys synth_xilinx).
// Operands are zero-point-corrected codes, AW/BW bits signed (b-bit codes -> b+1 bits); the
// accumulator is ACCW bits. Operands are registered and forwarded (systolic), like ahcq_core's PE.
module pe_mac #(
  parameter int AW = 5,
  parameter int BW = 5,
  parameter int ACCW = 32
) (
  input  logic                   clk,
  input  logic                   clr,
  input  logic                   en,
  input  logic signed [AW-1:0]   a_in,
  input  logic signed [BW-1:0]   b_in,
  output logic signed [AW-1:0]   a_out,
  output logic signed [BW-1:0]   b_out,
  output logic signed [ACCW-1:0] acc
);
  logic signed [AW+BW-1:0] prod;
  assign prod = a_in * b_in; // (AW+BW)-bit signed product, sign-extended into the accumulator
  always_ff @(posedge clk) begin
    if (clr) begin
      acc <= 0; a_out <= 0; b_out <= 0;
    end else if (en) begin
      a_out <= a_in;
      b_out <= b_in;
      acc <= acc + ACCW'(prod);
    end
  end
endmodule
