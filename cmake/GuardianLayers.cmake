# The layers of guardian: one static library per folder (guardian_<folder>), and the folders
# each may use. This table is the single source of truth: guardian_add_layers() builds the
# libraries and their link checks from it, and cmake/CheckLayerIncludes.cmake (the ctest
# "layer_includes") checks every `#include "guardian/<folder>/..."` against it.
#
# Order is data-flow order: a folder may only use folders listed before it. Each list names
# exactly the folders whose headers the folder includes (the check fails on one too many or
# one too few); a library links them PUBLIC.
set(GUARDIAN_LAYERS
  config process report alerts plugins limits health context monitor supervise adapters
  servers session cli)
set(GUARDIAN_LAYER_DEPS_config)
set(GUARDIAN_LAYER_DEPS_process)
set(GUARDIAN_LAYER_DEPS_report    config process)
set(GUARDIAN_LAYER_DEPS_alerts)
set(GUARDIAN_LAYER_DEPS_plugins   alerts config process)
set(GUARDIAN_LAYER_DEPS_limits    alerts config process)
set(GUARDIAN_LAYER_DEPS_health    config process)
set(GUARDIAN_LAYER_DEPS_context   alerts config report)
set(GUARDIAN_LAYER_DEPS_monitor   config context limits process report)
set(GUARDIAN_LAYER_DEPS_supervise limits process)
set(GUARDIAN_LAYER_DEPS_adapters  alerts config context process report)
set(GUARDIAN_LAYER_DEPS_servers   adapters alerts config context health limits monitor process supervise)
set(GUARDIAN_LAYER_DEPS_session   adapters config context limits monitor plugins process report servers supervise)
set(GUARDIAN_LAYER_DEPS_cli       adapters config context limits plugins process report servers session)

# Where a layer's sources live, relative to the project root: guardian/<name>, but adapters/
# is a top-level folder.
function(guardian_layer_dir name out)
  if(name STREQUAL "adapters")
    set(${out} adapters PARENT_SCOPE)
  else()
    set(${out} guardian/${name} PARENT_SCOPE)
  endif()
endfunction()

# Fails configuration if a layer uses one listed after it (or itself): the table has no cycle.
function(guardian_check_layer_order)
  set(seen)
  foreach(layer IN LISTS GUARDIAN_LAYERS)
    foreach(dep IN LISTS GUARDIAN_LAYER_DEPS_${layer})
      if(NOT dep IN_LIST seen)
        message(FATAL_ERROR "cmake/GuardianLayers.cmake: layer '${layer}' uses '${dep}', which is not "
                            "listed before it in GUARDIAN_LAYERS")
      endif()
    endforeach()
    list(APPEND seen ${layer})
  endforeach()
endfunction()

# guardian_add_layers(<base>): one STATIC library guardian_<layer> per layer, linking <base>
# (shared options, include directories) and PUBLIC the libraries of the layers it uses; its
# folder adds its sources and third-party libraries with target_sources/target_link_libraries.
#
# And one link check per layer, guardian_layer_check_<layer>, built with ALL: a tiny
# executable that links the whole archive (every object, used or not) with only the
# libraries the layer declares. A call from a layer into one it does not declare (a higher
# one) is an undefined reference there, so the build fails; a static library alone would
# only pull the objects something asks for and never notice.
function(guardian_add_layers base)
  guardian_check_layer_order()
  add_library(guardian_layer_check_main OBJECT ${PROJECT_SOURCE_DIR}/cmake/layer_check_main.cpp)
  target_link_libraries(guardian_layer_check_main PRIVATE guardian_compile_options)
  add_custom_target(guardian_layer_checks ALL)
  foreach(layer IN LISTS GUARDIAN_LAYERS)
    set(deps)
    foreach(dep IN LISTS GUARDIAN_LAYER_DEPS_${layer})
      list(APPEND deps guardian_${dep})
    endforeach()
    add_library(guardian_${layer} STATIC)
    target_link_libraries(guardian_${layer} PUBLIC ${base} ${deps})

    set(check guardian_layer_check_${layer})
    add_executable(${check} $<TARGET_OBJECTS:guardian_layer_check_main>)
    target_link_libraries(${check} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,guardian_${layer}>")
    # Only the symbols matter: no debug info to write, and nothing to keep.
    target_link_options(${check} PRIVATE -Wl,--strip-debug)
    set_target_properties(${check} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/layer_checks)
    add_dependencies(guardian_layer_checks ${check})
  endforeach()
endfunction()
