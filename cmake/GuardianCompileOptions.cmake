# Compile options shared by every guardian target: warnings (errors in CI) and,
# on request, AddressSanitizer + UndefinedBehaviorSanitizer.
add_library(guardian_compile_options INTERFACE)
target_compile_options(guardian_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
  $<$<BOOL:${GUARDIAN_WERROR}>:-Werror>)
if(GUARDIAN_SANITIZE)
  target_compile_options(guardian_compile_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(guardian_compile_options INTERFACE -fsanitize=address,undefined)
endif()
