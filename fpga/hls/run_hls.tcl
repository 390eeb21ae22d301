# Vitis HLS script for AMD users (NOT run in this repository's CI: no Vitis here).
#   vitis_hls -f fpga/hls/run_hls.tcl      (from the repository root)
# C-simulation replays fixtures/golden; synthesis targets the ZCU102 part at 300 MHz.
open_project -reset ahcq_hls
set_top ahcq_tile_top
add_files fpga/hls/src/ahcq_tile_top.cpp -cflags "-Ifpga/hls/include -DAHCQ_USE_VENDOR_AP"
add_files -tb fpga/hls/tb/csim_main.cpp -cflags "-Ifpga/hls/include -std=c++17 -DAHCQ_USE_VENDOR_AP"
open_solution -reset sol1 -flow_target vivado
set_part xczu9eg-ffvb1156-2-e
create_clock -period 3.333 -name default
csim_design -argv "fixtures/golden"
csynth_design
exit
