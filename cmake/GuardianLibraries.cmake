# The C++ libraries guardian's core uses, and how they are linked: chosen here, in one place.
#
# With GUARDIAN_STATIC_CXX (the default), the guardian executable maps no C++ shared library:
# libstdc++ and libgcc are linked in (-static-libstdc++ -static-libgcc), fmt is compiled once
# into the project (cmake/fmt_compiled_once.cpp), toml++ in its header-only mode (three files
# include it), Boost.Filesystem and pugixml come from their static archives; and its relative
# relocations are packed (-z pack-relative-relocs, glibc 2.36: Debian 12), so the dynamic
# linker reads 1 KiB of them instead of 140 KiB. Every `guardian run` starts by loading the executable, and the dynamic linker's
# work for five C++ libraries (mapping them, ~2,700 relocations, symbol lookups through
# libstdc++'s tables) was a third of a short run's start-up (BENCHMARKS.md, "Start-up",
# issue 17). glibc stays shared: the plugin host dlopen()s plugins, and NSS needs it.
#
# Plugins keep linking libstdc++.so: they run in the plugin host (the same executable), whose
# own copy of libstdc++ is private to it, and cross into it only through plugin.h's C ABI.
#
# The targets to link: guardian::fmt, guardian::toml, guardian::pugixml; Boost::filesystem.
# guardian_link_for_fast_start(<target>) for executables that link no C++ shared library
# themselves (tests link GoogleTest's, so they keep the shared runtime).
option(GUARDIAN_STATIC_CXX
  "Link the C++ runtime and C++ libraries into the guardian executable (faster start-up)" ON)
if(GUARDIAN_SANITIZE)
  set(GUARDIAN_STATIC_CXX OFF)  # the sanitizers' runtimes expect the shared C++ runtime
endif()

if(GUARDIAN_STATIC_CXX)
  set(Boost_USE_STATIC_LIBS ON)
endif()
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS system filesystem)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(pugixml 1.11 CONFIG REQUIRED)  # Debian: libpugixml-dev (JUnit XML)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)  # also for the plugins' GLib and libnotify

add_library(guardian_fmt INTERFACE)
add_library(guardian::fmt ALIAS guardian_fmt)
add_library(guardian_toml INTERFACE)
add_library(guardian::toml ALIAS guardian_toml)
add_library(guardian_pugixml INTERFACE)
add_library(guardian::pugixml ALIAS guardian_pugixml)

if(GUARDIAN_STATIC_CXX)
  # fmt compiled once, in guardian_fmt_compiled (cmake/fmt_compiled_once.cpp).
  add_library(guardian_fmt_compiled STATIC ${CMAKE_CURRENT_LIST_DIR}/fmt_compiled_once.cpp)
  target_include_directories(guardian_fmt_compiled SYSTEM PUBLIC
    $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(guardian_fmt INTERFACE guardian_fmt_compiled)
  # toml++ is a header-only library that Debian also ships compiled; its headers alone.
  find_path(GUARDIAN_TOMLPLUSPLUS_INCLUDE toml++/toml.h REQUIRED)
  target_include_directories(guardian_toml SYSTEM INTERFACE ${GUARDIAN_TOMLPLUSPLUS_INCLUDE})
  target_compile_definitions(guardian_toml INTERFACE TOML_HEADER_ONLY=1)
  target_link_libraries(guardian_pugixml INTERFACE pugixml::static)
else()
  target_link_libraries(guardian_fmt INTERFACE fmt::fmt)
  pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
  target_link_libraries(guardian_toml INTERFACE PkgConfig::TOMLPLUSPLUS)
  target_link_libraries(guardian_pugixml INTERFACE pugixml::shared)
endif()

include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" GUARDIAN_LINKER_PACKS_RELOCS)
function(guardian_link_for_fast_start target)
  if(GUARDIAN_STATIC_CXX)
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    if(GUARDIAN_LINKER_PACKS_RELOCS)
      target_link_options(${target} PRIVATE -Wl,-z,pack-relative-relocs)
    endif()
  endif()
endfunction()
