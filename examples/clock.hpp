// Shared by the examples: the wall-clock time as HH:MM:SS, like Python's time.strftime('%X').
#pragma once

#include <ctime>
#include <string>

inline std::string now_hms() {
    std::time_t t = std::time(nullptr);
    char buf[16];
    std::strftime(buf, sizeof buf, "%X", std::localtime(&t));
    return buf;
}
