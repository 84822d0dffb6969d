# Warnings apply to our own targets only, never to dependencies' headers.
function(maskscan_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion-null)
endfunction()
