// Boost.Process v2 compiled once, here (BOOST_PROCESS_V2_SEPARATE_COMPILATION): in 1.81 the
// header-only mode misses process_environment::on_setup, and one TU is faster to build anyway.
#include <boost/process/v2/src.hpp>
