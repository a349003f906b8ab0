# Installs the debug symbols (component dbgsym, cmake/Package.cmake) where gdb looks for the
# binary's .gnu_debuglink: <debug-file-directory>/<the binary's directory>/sixguard.debug,
# i.e. /usr/lib/debug/usr/bin/sixguard.debug for the package.
file(INSTALL "${SIXGUARD_DIST_DIR}/sixguard.debug"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/debug${CMAKE_INSTALL_PREFIX}/${SIXGUARD_BINDIR}")
