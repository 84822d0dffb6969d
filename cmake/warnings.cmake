# Warnings apply to our own targets only, never to dependencies' headers.
# -Wno-missing-field-initializers: GCC 12 warns when an aggregate initializer leaves out trailing
# members that have default member initializers (frame_row{path, w, h, ...}, file_error{path, code,
# message}), which is the intended way to build them.
function(maskscan_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion-null
                                           -Wno-missing-field-initializers)
endfunction()
