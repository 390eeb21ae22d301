#!/usr/bin/env bash
# Yosys resource estimates (synth_xilinx -family xcup, no DSP inference for the LUT-based PEs, as in
# the paper's INT designs). Writes results.json next to this script. Usage: bash synth.sh
set -euo pipefail
cd "$(dirname "$0")"
out=results.json
tmp=$(mktemp -d)
run() { # name top params file extra
  local name=$1 top=$2 params=$3 file=$4 extra=$5
  yosys -q -p "read_verilog -sv $file; chparam $params $top; synth_xilinx -family xcup -top $top $extra; tee -o $tmp/$name.stat stat" >/dev/null
  local lut ff dsp bram
  lut=$({ grep -E '^\s+LUT[1-6]\s' $tmp/$name.stat || true; } | awk '{s+=$2} END {print s+0}' || true)
  ff=$({ grep -E '^\s+FD[RSCE]+\s' $tmp/$name.stat || true; } | awk '{s+=$2} END {print s+0}' || true)
  dsp=$({ grep -E '^\s+DSP48E2\s' $tmp/$name.stat || true; } | awk '{s+=$2} END {print s+0}' || true)
  bram=$({ grep -E '^\s+RAMB(36|18)E2\s' $tmp/$name.stat || true; } | awk '{s+=$2} END {print s+0}' || true)
  echo "  \"$name\": {\"LUT\": $lut, \"FF\": $ff, \"DSP\": $dsp, \"BRAM\": $bram}"
}
{
  echo "{"
  echo "  \"tool\": \"$(yosys -V | head -1)\","
  echo "  \"command\": \"synth_xilinx -family xcup (-nodsp for the LUT-based PE probes; DSP inference allowed for pe_int4_dsp; the full core (ahcq_core.sv) is not synthesised here: its 64-bit PPU multipliers take > 10 min in Yosys)\","
  run pe_int4 pe_mac "-set AW 5 -set BW 5 -set ACCW 32" pe_mac.sv "-nodsp"; echo ","
  run pe_int8 pe_mac "-set AW 9 -set BW 9 -set ACCW 32" pe_mac.sv "-nodsp"; echo ","
  run pe_int4_dsp pe_mac "-set AW 5 -set BW 5 -set ACCW 32" pe_mac.sv ""
  echo "}"
} > $out.tmp
mv $out.tmp $out
rm -rf $tmp
cat $out
