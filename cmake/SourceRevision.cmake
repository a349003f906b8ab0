# Writes the source revision into OUTPUT (a C++ file), run at every build by the
# sixguard_revision target (agent/version/CMakeLists.txt) so that a new commit, or a tree that
# became dirty, is picked up without reconfiguring. configure_file rewrites OUTPUT only when
# its text changes: a build at the same revision recompiles nothing.
#   cmake -DSOURCE_DIR=... -DTEMPLATE=... -DOUTPUT=... [-DREVISION_OVERRIDE=...] -P this-file
# The revision is the commit (12 hex digits), "-dirty" when tracked files differ from it; a
# build outside a git checkout (a source tarball, a container build without .git) takes
# REVISION_OVERRIDE (cmake -DSIXGUARD_REVISION=...) or says "unknown".
set(revision "")
if(REVISION_OVERRIDE)
  set(revision "${REVISION_OVERRIDE}")
else()
  find_program(GIT_EXECUTABLE git)
  if(GIT_EXECUTABLE)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE commit_failed ERROR_QUIET)
    if(NOT commit_failed AND commit)
      set(revision "${commit}")
      # `git diff --quiet HEAD` refreshes the index in memory: a touched but unchanged file is
      # not "dirty". Untracked files are not part of the build's sources and do not count.
      execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} diff --quiet HEAD --
                      RESULT_VARIABLE dirty ERROR_QUIET)
      if(dirty)
        set(revision "${revision}-dirty")
      endif()
    endif()
  endif()
endif()
if(NOT revision)
  set(revision "unknown")
endif()
set(SIXGUARD_REVISION "${revision}")
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
