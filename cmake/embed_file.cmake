# Turns a text file into a C++ source defining edge_cache::embedded::kRulesJson (see src/embedded_rules.h).
# Run as: cmake -DINPUT=<file> -DOUTPUT=<cpp> -P embed_file.cmake
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],){32}" "\\0\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/embed_file.cmake. Do not edit.\n"
  "#include \"embedded_rules.h\"\n"
  "namespace edge_cache::embedded {\n"
  "static const char kBytes[] = {\n${bytes}\n0};\n"
  "const std::string_view kRulesJson{kBytes, ${byte_count}};\n"
  "}  // namespace edge_cache::embedded\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
