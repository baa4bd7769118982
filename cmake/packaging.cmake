# Debian packages through CPack, split the way Debian splits a library (scripts/package.sh):
#   libleakycl<SOVERSION>   component lib: the shared library (package name from its SONAME)
#   libleakycl-dev          component dev: header, static library, the .so link, CMake and
#                           pkg-config files
#   leakycl-tools           component tools: leakycl, leakycl-bench
#   libleakycl-opencv<N>    component opencv / opencv-dev, where the OpenCV integration
#   libleakycl-opencv-dev   (target leakycl_opencv) is part of the build
# and, when tests are on, the ctest case package.debs (label package) that builds, inspects,
# unpacks, lints and uses them (tests/package/run.sh).
#
# The CPack setup runs deferred, at the end of the top-level directory, so that it sees targets
# and install rules added after this file was included.
if(NOT LEAKYCL_IS_TOP_LEVEL)
  return()
endif()

set(LEAKYCL_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages (the -N after the version)")
set(LEAKYCL_DEB_MAINTAINER "leakycl maintainers <maintainers@users.noreply.r-seed-c861fee3.example>"
    CACHE STRING "Maintainer field of the Debian packages")
set(LEAKYCL_DEB_VERSION "${PROJECT_VERSION}-${LEAKYCL_DEB_RELEASE}")

# --- /usr/share/doc/<package>: copyright, the Debian changelog and the upstream one ----------------
# Debian wants both changelogs compressed with gzip -9n (no name or time in the header).
set(LEAKYCL_DEB_DOC_DIR ${PROJECT_BINARY_DIR}/debian-doc)
file(MAKE_DIRECTORY ${LEAKYCL_DEB_DOC_DIR})
string(TIMESTAMP LEAKYCL_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC) # honours SOURCE_DATE_EPOCH
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog.in ${LEAKYCL_DEB_DOC_DIR}/changelog.Debian @ONLY)
find_program(LEAKYCL_GZIP gzip REQUIRED)
foreach(pair "${LEAKYCL_DEB_DOC_DIR}/changelog.Debian|changelog.Debian.gz"
             "${PROJECT_SOURCE_DIR}/CHANGELOG.md|changelog.gz")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  execute_process(COMMAND ${LEAKYCL_GZIP} -9nc ${from} OUTPUT_FILE ${LEAKYCL_DEB_DOC_DIR}/${to}
                  RESULT_VARIABLE gzip_status)
  if(NOT gzip_status EQUAL 0)
    message(FATAL_ERROR "leakycl: gzip ${from} failed: ${gzip_status}")
  endif()
endforeach()
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/CHANGELOG.md ${PROJECT_SOURCE_DIR}/cmake/debian/copyright)

# --- the tools' manual pages, written from their help texts at build time (cmake/manpage.cmake);
# not in sanitizer, fuzzing or cross builds, where the tools should not or cannot run then.
function(leakycl_manpage target name summary help see_also)
  string(TIMESTAMP date "%Y-%m-%d" UTC)
  set(page ${LEAKYCL_DEB_DOC_DIR}/${name}.1.gz)
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${target}> -DNAME=${name} "-DSUMMARY=${summary}"
            -DVERSION=${PROJECT_VERSION} -DDATE=${date} "-DHELP=${help}" -DSEE_ALSO=${see_also}
            -DGZIP=${LEAKYCL_GZIP} -DOUTPUT=${page} -P ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
    DEPENDS ${target} ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
    COMMENT "Writing the manual page of ${name}" VERBATIM)
  add_custom_target(${target}_manpage ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endfunction()
if(LEAKYCL_BUILD_TOOLS AND LEAKYCL_SANITIZE STREQUAL "" AND NOT LEAKYCL_FUZZ AND NOT CMAKE_CROSSCOMPILING)
  leakycl_manpage(leakycl_cli leakycl "leaky ReLU on OpenCL devices and the CPU: devices, check, bench"
                  "--help|help devices|help check" leakycl-bench)
  leakycl_manpage(leakycl_bench leakycl-bench "time leakycl's ops against copy bandwidth and the CPU"
                  "--help" leakycl)
endif()

# --- helpers ------------------------------------------------------------------------------------
# The Debian package name of a shared-library target: its SONAME's name with the version
# appended (a hyphen between two digits), underscores as hyphens (Debian policy 8.1).
function(leakycl_deb_library_package target out)
  get_target_property(name ${target} OUTPUT_NAME)
  if(NOT name)
    set(name ${target})
  endif()
  get_target_property(soversion ${target} SOVERSION)
  if(NOT soversion AND NOT soversion STREQUAL "0")
    set(soversion "")
  endif()
  string(REPLACE "_" "-" package "lib${name}")
  string(TOLOWER "${package}" package)
  if(package MATCHES "[0-9]$" AND NOT soversion STREQUAL "")
    string(APPEND package "-")
  endif()
  set(${out} "${package}${soversion}" PARENT_SCOPE)
endfunction()

# The doc files every package carries, installed only by component installs (cpack), not by a
# plain `cmake --install`.
function(leakycl_deb_docs component package)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright
                ${LEAKYCL_DEB_DOC_DIR}/changelog.Debian.gz ${LEAKYCL_DEB_DOC_DIR}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
          COMPONENT ${component} EXCLUDE_FROM_ALL)
endfunction()

# One package: its name, section, description, dependencies (besides dpkg-shlibdeps' own).
# CPack's per-component variables use the component's name in upper case.
macro(leakycl_deb_package component package section)
  cmake_parse_arguments(deb "" "" "DESCRIPTION;DEPENDS;RECOMMENDS;SUGGESTS" ${ARGN})
  string(TOUPPER "${component}" deb_upper)
  set(CPACK_DEBIAN_${deb_upper}_PACKAGE_NAME ${package})
  set(CPACK_DEBIAN_${deb_upper}_PACKAGE_SECTION ${section})
  # One list item a line: the synopsis, then the text, "." between paragraphs (CPack indents
  # each line by one space). No semicolons in the text: they separate the items.
  string(REPLACE ";" "\n" deb_description "${deb_DESCRIPTION}")
  set(CPACK_DEBIAN_${deb_upper}_DESCRIPTION "${deb_description}")
  foreach(field DEPENDS RECOMMENDS SUGGESTS)
    if(deb_${field})
      list(JOIN deb_${field} ", " deb_joined)
      set(CPACK_DEBIAN_${deb_upper}_PACKAGE_${field} "${deb_joined}")
    endif()
  endforeach()
  list(APPEND CPACK_COMPONENTS_ALL ${component})
  leakycl_deb_docs(${component} ${package})
endmacro()

# --- the packages ---------------------------------------------------------------------------------
function(leakycl_packaging_configure)
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGE_NAME leakycl)
  set(CPACK_PACKAGE_VENDOR leakycl)
  set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
  set(CPACK_PACKAGE_CONTACT "${LEAKYCL_DEB_MAINTAINER}")
  set(CPACK_DEB_COMPONENT_INSTALL ON)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # name_version-revision_arch.deb
  set(CPACK_DEBIAN_PACKAGE_RELEASE ${LEAKYCL_DEB_RELEASE})
  set(CPACK_DEBIAN_PACKAGE_SOURCE leakycl)
  set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON) # DEBIAN/shlibs for the library packages
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
  set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
  set(CPACK_STRIP_FILES ON)
  set(CPACK_COMPONENTS_ALL "")

  set(version_eq "(= ${LEAKYCL_DEB_VERSION})")
  set(opencl_icd "pocl-opencl-icd | opencl-icd") # some OpenCL driver; PoCL runs on any CPU
  set(about
      "leakycl runs leaky ReLU forward and backward (plain, batched, PReLU, masked"
      "and a fused dense layer) on OpenCL devices, with a CPU backend that serves"
      "where no device is present. It handles f32, f16, bf16 and f64, and every"
      "backend gives bit-identical results.")
  leakycl_deb_library_package(leakycl lib_package)

  # The shared library's own dependencies (OpenCL loader, libgomp, CLBlast, OpenBLAS) come from
  # dpkg-shlibdeps; an OpenCL driver is recommended, not required (the CPU backend needs none).
  leakycl_deb_package(lib ${lib_package} libs
    DESCRIPTION "leaky ReLU on OpenCL devices and the CPU - shared library" ${about}
                "." "This package holds the shared library."
    RECOMMENDS "${opencl_icd}")
  # The loader's cache through libc's ldconfig trigger (Debian policy 8.1.1). CPack still adds
  # its own ldconfig call to postinst/postrm for a library under /usr/lib: redundant, harmless.
  set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/triggers)

  # What building against the library needs: the OpenCL headers and loader (leakycl.h includes
  # CL/cl.h; leakycl.pc requires OpenCL), and the static library's link dependencies that
  # leakyclConfig.cmake looks for.
  set(dev_depends "${lib_package} ${version_eq}" "ocl-icd-opencl-dev | opencl-dev" opencl-c-headers)
  if(LEAKYCL_HAVE_CLBLAST)
    list(APPEND dev_depends libclblast-dev)
  endif()
  if(LEAKYCL_HAVE_CBLAS)
    list(APPEND dev_depends libopenblas-dev)
  endif()
  leakycl_deb_package(dev libleakycl-dev libdevel
    DESCRIPTION "leaky ReLU on OpenCL devices and the CPU - development files" ${about}
                "." "This package holds the header, the static library, the CMake package"
                "(find_package(leakycl)) and the pkg-config file."
    DEPENDS ${dev_depends}
    RECOMMENDS "${opencl_icd}")

  if(TARGET leakycl_cli)
    leakycl_deb_package(tools leakycl-tools science
      DESCRIPTION "leaky ReLU on OpenCL devices and the CPU - command-line tools" ${about}
                  "." "This package holds leakycl, which lists OpenCL devices and checks"
                  "every op bit for bit against the CPU backend, and leakycl-bench, which"
                  "times the ops against the device's copy bandwidth."
      RECOMMENDS "${opencl_icd}"
      SUGGESTS gnuplot-nox)
  endif()

  # The OpenCV DNN integration (integrations/opencv), when the build has it. dpkg-shlibdeps
  # finds the libleakycl.so.N it links in the build tree (it is in no installed package yet);
  # the dependency on its package is the explicit one below.
  if(TARGET leakycl_opencv)
    get_target_property(leakycl_dir leakycl LIBRARY_OUTPUT_DIRECTORY)
    if(NOT leakycl_dir)
      set(leakycl_dir ${PROJECT_BINARY_DIR})
    endif()
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${leakycl_dir})
    leakycl_deb_library_package(leakycl_opencv opencv_package)
    leakycl_deb_package(opencv ${opencv_package} libs
      DESCRIPTION "leaky ReLU on OpenCL devices and the CPU - OpenCV DNN layers" ${about}
                  "." "This package holds the OpenCV DNN integration's shared library."
      DEPENDS "${lib_package} ${version_eq}")
    set(CPACK_DEBIAN_OPENCV_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/triggers)
    leakycl_deb_package(opencv-dev libleakycl-opencv-dev libdevel
      DESCRIPTION "leaky ReLU on OpenCL devices and the CPU - OpenCV DNN development files"
                  ${about} "." "This package holds the OpenCV DNN integration's header, CMake"
                  "and pkg-config files."
      DEPENDS "${opencv_package} ${version_eq}" "libleakycl-dev ${version_eq}" libopencv-dnn-dev)
  endif()

  include(CPack)
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL leakycl_packaging_configure)

# --- the test: scripts/package.sh into the build tree, then tests/package/run.sh ----------------
# Label install too, so that the sanitizer builds (ctest -LE install) leave it out.
if(LEAKYCL_BUILD_TESTS)
  add_test(NAME package.debs
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package/run.sh ${PROJECT_BINARY_DIR}/package
                   ${PROJECT_VERSION} ${CMAKE_COMMAND} ${CMAKE_C_COMPILER})
  set_tests_properties(package.debs PROPERTIES LABELS "package;install" TIMEOUT 600)
endif()
