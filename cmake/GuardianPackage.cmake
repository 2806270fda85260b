# The Debian package (`cpack -G DEB` in the build directory): guardian_<version>_<arch>.deb with
# the executable, the bundled plugins, the pytest adapter, the man page, the shell completions
# and the plugin SDK, installed under /usr. Its dependencies are computed from the binaries by
# dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS), never listed by hand. guardian finds its files
# next to its executable, so the package's /usr prefix needs no rebuild.
set(CPACK_PACKAGE_NAME guardian)
set(CPACK_PACKAGE_VENDOR "guardian")
set(CPACK_PACKAGE_CONTACT "guardian maintainers <guardian@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "Runs a test suite or a development server as one supervised process tree: resource ceilings\n"
    "(cgroup v2 or a /proc watchdog), nothing left running, the exit code passed through, typed\n"
    "alerts to plugins, and adapters for pytest, JUnit XML and CI.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # guardian_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The pytest adapter is Python; pytest itself is the user's choice.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-pytest")
set(CPACK_GENERATOR DEB)
include(CPack)
