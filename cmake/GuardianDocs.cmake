# The manual page and the shell completions, printed by the freshly built guardian itself
# (`guardian __generate man|bash|zsh`) from its command line and configuration schema, so they
# can never disagree with the flags; installed with the executable.
set(GUARDIAN_DOCS_DIR ${PROJECT_BINARY_DIR}/docs)
set(GUARDIAN_GENERATED_DOCS ${GUARDIAN_DOCS_DIR}/guardian.1 ${GUARDIAN_DOCS_DIR}/guardian.bash
                            ${GUARDIAN_DOCS_DIR}/_guardian)
add_custom_command(
  OUTPUT ${GUARDIAN_GENERATED_DOCS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${GUARDIAN_DOCS_DIR}
  COMMAND guardian __generate man > ${GUARDIAN_DOCS_DIR}/guardian.1
  COMMAND guardian __generate bash > ${GUARDIAN_DOCS_DIR}/guardian.bash
  COMMAND guardian __generate zsh > ${GUARDIAN_DOCS_DIR}/_guardian
  DEPENDS guardian
  COMMENT "Generating guardian(1) and the bash/zsh completions"
  VERBATIM)
add_custom_target(guardian_docs ALL DEPENDS ${GUARDIAN_GENERATED_DOCS})
install(FILES ${GUARDIAN_DOCS_DIR}/guardian.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${GUARDIAN_DOCS_DIR}/guardian.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME guardian)
install(FILES ${GUARDIAN_DOCS_DIR}/_guardian DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
