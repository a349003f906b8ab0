# What `cmake --install` lays down and what the .deb carries (scripts/package.sh):
#   bin/sixguard                               stripped, with a .gnu_debuglink to ...
#   lib/debug/<bindir>/sixguard.debug          ... its debug symbols (the -dbgsym package)
#   lib/systemd/system/sixguard.service        paths rewritten to this prefix
#   <sysconfdir>/sixguard/config.yaml          every key at its default (a conffile)
#   share/man/man8/sixguard.8                  generated from the CLI's definitions
#   share/bash-completion/completions/sixguard generated from the CLI's definitions
#   share/doc/sixguard/{README.md,operating.md,config.example.yaml}
# With the prefix /usr (the package), sysconfdir is /etc (GNUInstallDirs).
include(GNUInstallDirs)

set(SIXGUARD_DIST_DIR ${CMAKE_BINARY_DIR}/dist)
set(stripped ${SIXGUARD_DIST_DIR}/sixguard)
set(debug_file ${SIXGUARD_DIST_DIR}/sixguard.debug)
set(man_page ${SIXGUARD_DIST_DIR}/sixguard.8)
set(completion ${SIXGUARD_DIST_DIR}/sixguard.bash)
# Made now: the strip command below runs in it, and a fresh build has not created it yet.
file(MAKE_DIRECTORY ${SIXGUARD_DIST_DIR})

# The installed binary: debug symbols split off (objcopy --only-keep-debug), the rest
# stripped and pointed at them by a debuglink, so that gdb finds
# /usr/lib/debug/usr/bin/sixguard.debug once the -dbgsym package is installed. build/sixguard
# itself stays unstripped for development and the tests.
find_program(OBJCOPY_EXECUTABLE NAMES objcopy REQUIRED)
add_custom_command(
  OUTPUT ${stripped} ${debug_file}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SIXGUARD_DIST_DIR}
  COMMAND ${OBJCOPY_EXECUTABLE} --only-keep-debug --compress-debug-sections=zlib
          $<TARGET_FILE:sixguard> ${debug_file}
  COMMAND ${OBJCOPY_EXECUTABLE} --strip-debug --strip-unneeded $<TARGET_FILE:sixguard>
          ${stripped}
  # Run in the directory of the debug file: the link records its base name and CRC.
  COMMAND ${OBJCOPY_EXECUTABLE} --add-gnu-debuglink=sixguard.debug sixguard
  WORKING_DIRECTORY ${SIXGUARD_DIST_DIR}
  DEPENDS sixguard
  COMMENT "sixguard: stripped binary and separate debug symbols"
  VERBATIM)

# The man page and the completion: the built binary prints them from its own definitions.
add_custom_command(
  OUTPUT ${man_page} ${completion}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SIXGUARD_DIST_DIR}
  COMMAND $<TARGET_FILE:sixguard> generate-docs man --output ${man_page}
  COMMAND $<TARGET_FILE:sixguard> generate-docs bash-completion --output ${completion}
  DEPENDS sixguard
  COMMENT "sixguard: man page and bash completion from the CLI's definitions"
  VERBATIM)
add_custom_target(sixguard_dist ALL DEPENDS ${stripped} ${debug_file} ${man_page} ${completion})

# Prefix-dependent files (the unit's paths, /etc or <prefix>/etc, /usr/lib/debug/<bindir>)
# are written at install time from the prefix in force then: `cmake --install build` uses
# /usr/local, the package /usr (CPack with CPACK_SET_DESTDIR installs with that prefix into a
# DESTDIR), from one build directory.
install(CODE "set(SIXGUARD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(SIXGUARD_DIST_DIR \"${SIXGUARD_DIST_DIR}\")
set(SIXGUARD_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(SIXGUARD_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")" COMPONENT runtime)
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallRuntime.cmake COMPONENT runtime)
install(CODE "set(SIXGUARD_DIST_DIR \"${SIXGUARD_DIST_DIR}\")
set(SIXGUARD_BINDIR \"${CMAKE_INSTALL_BINDIR}\")" COMPONENT dbgsym)
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallDebug.cmake COMPONENT dbgsym)

install(PROGRAMS ${stripped} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${man_page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT runtime)
install(FILES ${completion} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME sixguard COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operating.md
              ${PROJECT_SOURCE_DIR}/deploy/config.example.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

# cpack (and `make install`) install what was built and build nothing first: by default CPack
# runs the preinstall target, which depends on `all`, so tests/package/deb_test.sh rebuilt any
# stale target of the whole tree in the middle of a ctest run. scripts/package.sh builds
# sixguard_dist before it packages; the test checks that dist/ is not older than the binary.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# ---- CPack: sixguard_<version>_<arch>.deb and sixguard-dbgsym_<version>_<arch>.deb ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sixguard)
set(CPACK_PACKAGE_VENDOR sixguard)
set(CPACK_PACKAGE_CONTACT "sixguard maintainers <sixguard@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tenant isolation between private IPv6 networks with eBPF")
set(CPACK_PACKAGE_DESCRIPTION
    "An agent that enforces isolation between 6PN networks (fdaa::/16) in the kernel with XDP "
    "and TC programs, driven by control-plane events, with Prometheus metrics.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dbgsym)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME sixguard)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# bpftool: to look at what the agent attached (`bpftool net show`), as the docs do.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS bpftool)
set(CPACK_DEBIAN_DBGSYM_PACKAGE_NAME sixguard-dbgsym)
set(CPACK_DEBIAN_DBGSYM_PACKAGE_SECTION debug)
set(CPACK_DEBIAN_DBGSYM_PACKAGE_DEPENDS "sixguard (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DBGSYM_DESCRIPTION "debug symbols for sixguard")
# /etc/sixguard/config.yaml is a conffile: an operator's edits survive upgrades. The
# maintainer scripts only tell systemd about the unit; the package enables and starts
# nothing (the operator chooses when enforcement begins on a host).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)  # install with the prefix /usr into a DESTDIR (see above)
include(CPack)
