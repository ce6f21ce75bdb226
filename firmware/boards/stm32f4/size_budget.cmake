# Print the image's size and fail past the budget. Flash is text + data
# (the initialisers live in flash), RAM is data + bss (stack included).
# Usage: cmake -DSIZE=arm-none-eabi-size -DELF=x.elf -DFLASH_BUDGET=n -DRAM_BUDGET=n -P size_budget.cmake
execute_process(COMMAND ${SIZE} -B ${ELF} OUTPUT_VARIABLE _out RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "size: ${SIZE} ${ELF} failed")
endif()
string(REGEX MATCH "\n *([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)" _m "${_out}")
set(_text ${CMAKE_MATCH_1})
set(_data ${CMAKE_MATCH_2})
set(_bss ${CMAKE_MATCH_3})
math(EXPR _flash "${_text} + ${_data}")
math(EXPR _ram "${_data} + ${_bss}")
math(EXPR _flash_pct "100 * ${_flash} / ${FLASH_BUDGET}")
math(EXPR _ram_pct "100 * ${_ram} / ${RAM_BUDGET}")
message("${_out}")
message("robot-stm32f4 size: flash ${_flash} of ${FLASH_BUDGET} bytes (${_flash_pct}%), "
        "RAM ${_ram} of ${RAM_BUDGET} bytes (${_ram_pct}%)")
if(_flash GREATER FLASH_BUDGET OR _ram GREATER RAM_BUDGET)
  message(FATAL_ERROR "robot-stm32f4 is over its size budget")
endif()
