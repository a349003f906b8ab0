# Installs the prefix-dependent files of the runtime component (cmake/Package.cmake), run at
# install time with the prefix then in force. SIXGUARD_SOURCE_DIR, SIXGUARD_DIST_DIR,
# SIXGUARD_BINDIR and SIXGUARD_DOCDIR are set by the install(CODE) before it.
#   the systemd unit, its binary, config and Documentation= paths rewritten to the prefix;
#   the example configuration as <sysconfdir>/sixguard/config.yaml (/etc for the prefix /usr,
#   as GNUInstallDirs has it), unless one is there already (an operator's file is kept).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir /etc)
else()
  set(sysconfdir "${CMAKE_INSTALL_PREFIX}/etc")
endif()

file(READ "${SIXGUARD_SOURCE_DIR}/deploy/systemd/sixguard.service" unit)
string(REPLACE "/usr/local/bin/sixguard" "${CMAKE_INSTALL_PREFIX}/${SIXGUARD_BINDIR}/sixguard"
       unit "${unit}")
string(REPLACE "/usr/local/share/doc/sixguard" "${CMAKE_INSTALL_PREFIX}/${SIXGUARD_DOCDIR}"
       unit "${unit}")
string(REPLACE "/etc/sixguard/config.yaml" "${sysconfdir}/sixguard/config.yaml" unit "${unit}")
file(WRITE "${SIXGUARD_DIST_DIR}/unit/sixguard.service" "${unit}")
file(INSTALL "${SIXGUARD_DIST_DIR}/unit/sixguard.service"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")

if(EXISTS "$ENV{DESTDIR}${sysconfdir}/sixguard/config.yaml")
  message(STATUS "Keeping: $ENV{DESTDIR}${sysconfdir}/sixguard/config.yaml")
else()
  file(INSTALL "${SIXGUARD_SOURCE_DIR}/deploy/config.example.yaml"
       DESTINATION "${sysconfdir}/sixguard" RENAME config.yaml)
endif()
