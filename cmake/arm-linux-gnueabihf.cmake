# Toolchain for 32-bit Raspberry Pi OS (Pi Zero 2, Pi 2/3 on a 32-bit image): Debian's
# arm-linux-gnueabihf-gcc and the multiarch armhf libraries (libmosquitto-dev:armhf),
# as scripts/deps.sh installs them.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
# Raspberry Pi OS armhf: ARMv6 + VFP in the distribution, ARMv7 in Debian;
# Debian's compiler defaults to ARMv7-A, right for a Pi 2 and later.
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# Multiarch keeps target libraries in /usr/lib/arm-linux-gnueabihf and headers in
# /usr/include, so the host prefix is searched too; the library
# architecture directory comes before any host one.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config must see the target's .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf)
