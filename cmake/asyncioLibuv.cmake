# Finds libuv and defines the imported target asyncio::libuv; sets ASYNCIO_LIBUV_FOUND.
#
# Used both by the source tree and by the installed package (asyncioConfig.cmake), so the library
# and its consumers link the same libuv the same way. pkg-config first (Debian's libuv1-dev ships
# libuv.pc), then a plain header and library search.

if(TARGET asyncio::libuv)
    set(ASYNCIO_LIBUV_FOUND TRUE)
    return()
endif()

set(ASYNCIO_LIBUV_FOUND FALSE)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
    pkg_check_modules(LIBUV QUIET IMPORTED_TARGET GLOBAL libuv)
endif()

if(TARGET PkgConfig::LIBUV)
    add_library(asyncio::libuv INTERFACE IMPORTED GLOBAL)
    target_link_libraries(asyncio::libuv INTERFACE PkgConfig::LIBUV)
    set(ASYNCIO_LIBUV_FOUND TRUE)
else()
    find_path(ASYNCIO_LIBUV_INCLUDE_DIR uv.h)
    find_library(ASYNCIO_LIBUV_LIBRARY NAMES uv libuv)
    if(ASYNCIO_LIBUV_INCLUDE_DIR AND ASYNCIO_LIBUV_LIBRARY)
        find_package(Threads REQUIRED)
        add_library(asyncio::libuv INTERFACE IMPORTED GLOBAL)
        set_target_properties(asyncio::libuv PROPERTIES
            INTERFACE_INCLUDE_DIRECTORIES "${ASYNCIO_LIBUV_INCLUDE_DIR}"
            INTERFACE_LINK_LIBRARIES "${ASYNCIO_LIBUV_LIBRARY};Threads::Threads;${CMAKE_DL_LIBS}")
        set(ASYNCIO_LIBUV_FOUND TRUE)
    endif()
endif()
