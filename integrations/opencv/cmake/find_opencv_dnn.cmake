# Finds OpenCV's core and dnn modules and sets LEAKYCL_OPENCV_DNN_FOUND; on success the imported
# target leakycl_opencv_dnn links both. OpenCV's own CMake package first; failing that, the headers
# and libraries themselves (Debian's libopencv-dnn-dev ships no OpenCVConfig.cmake: that comes
# with libopencv-dev, which pulls in every module).
set(LEAKYCL_OPENCV_DNN_FOUND OFF)
if(NOT TARGET leakycl_opencv_dnn)
  find_package(OpenCV 4 QUIET COMPONENTS core dnn)
  if(OpenCV_FOUND)
    add_library(leakycl_opencv_dnn INTERFACE IMPORTED)
    set_target_properties(leakycl_opencv_dnn PROPERTIES INTERFACE_LINK_LIBRARIES "opencv_core;opencv_dnn")
  else()
    find_path(LEAKYCL_OPENCV_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4)
    find_library(LEAKYCL_OPENCV_CORE_LIBRARY opencv_core)
    find_library(LEAKYCL_OPENCV_DNN_LIBRARY opencv_dnn)
    if(LEAKYCL_OPENCV_INCLUDE_DIR AND LEAKYCL_OPENCV_CORE_LIBRARY AND LEAKYCL_OPENCV_DNN_LIBRARY)
      add_library(leakycl_opencv_dnn INTERFACE IMPORTED)
      set_target_properties(leakycl_opencv_dnn PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${LEAKYCL_OPENCV_INCLUDE_DIR}"
        INTERFACE_LINK_LIBRARIES "${LEAKYCL_OPENCV_DNN_LIBRARY};${LEAKYCL_OPENCV_CORE_LIBRARY}")
    endif()
  endif()
endif()
if(TARGET leakycl_opencv_dnn)
  set(LEAKYCL_OPENCV_DNN_FOUND ON)
endif()
