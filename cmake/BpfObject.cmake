# bpf_object(NAME SOURCE [SKELETON SKEL]): compiles SOURCE with clang -target bpf into
# NAME.bpf.o and generates SKEL.skel.h (default SKEL: NAME) with `bpftool gen skeleton ... name
# SKEL`, whose struct and functions are named SKEL (a name that must not be a C++ namespace of
# ours: `struct sixguard` could not share a TU with `namespace sixguard`). Defines the INTERFACE
# target NAME_skel that carries the skeleton's include directory and libbpf. clang writes the
# headers it read into a depfile, so a change to any included header rebuilds the object and
# the skeleton.
find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

# bpf_tracing.h reads pt_regs through the target's register names: the BPF object is built for
# the architecture the agent runs on, named as the kernel names it.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i.86)$")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(BPF_TARGET_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(BPF_TARGET_ARCH arm)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc64|ppc64le|powerpc64)")
  set(BPF_TARGET_ARCH powerpc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^s390")
  set(BPF_TARGET_ARCH s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv")
  set(BPF_TARGET_ARCH riscv)
else()
  message(FATAL_ERROR "BPF: no __TARGET_ARCH for processor ${CMAKE_SYSTEM_PROCESSOR}")
endif()

function(bpf_object name source)
  cmake_parse_arguments(PARSE_ARGV 2 BPF "" "SKELETON" "")
  if(NOT BPF_SKELETON)
    set(BPF_SKELETON ${name})
  endif()
  set(object ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skeleton ${CMAKE_CURRENT_BINARY_DIR}/${BPF_SKELETON}.skel.h)
  add_custom_command(
    OUTPUT ${object}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH} -Wall -Werror
            -I${PROJECT_SOURCE_DIR}
            -idirafter /usr/include/${BPF_MULTIARCH}
            -MD -MF ${object}.d -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${object}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source}
    DEPFILE ${object}.d
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skeleton}
    COMMAND ${BPFTOOL} gen skeleton ${object} name ${BPF_SKELETON} > ${skeleton}
    DEPENDS ${object}
    COMMENT "skeleton ${BPF_SKELETON}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen ALL DEPENDS ${skeleton})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
