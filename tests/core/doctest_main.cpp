// One main for every core test file; CTest runs each file's cases with --source-file filters.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
