# Every user-facing string of the desktop app (_() in app/ui_wx) must have an Italian
# translation: extract them with xgettext and compare with msgcmp (which fails on any
# msgid that resources/po/it.po lacks or leaves untranslated).
if(NOT ROOT OR NOT WORK)
  message(FATAL_ERROR "pass -DROOT=<source folder> -DWORK=<scratch folder>")
endif()
file(GLOB sources ${ROOT}/app/ui_wx/*.cc)
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND xgettext --language=C++ --keyword=_ --from-code=UTF-8 --no-location
                        -o ${WORK}/current.pot ${sources}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "xgettext failed: ${err}")
endif()
execute_process(COMMAND msgcmp ${ROOT}/resources/po/it.po ${WORK}/current.pot
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "resources/po/it.po is missing translations:\n${out}${err}")
endif()
message(STATUS "every desktop-app string has an Italian translation")
