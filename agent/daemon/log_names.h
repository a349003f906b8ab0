// The agent log's levels and formats and their spellings (config keys log_level and
// log_format, SIXGUARD_LOG_LEVEL, the json lines' "level"): apart from log.h so that the
// configuration validates them without the logger.
#pragma once

#include "agent/core/enum_names.h"

namespace sixguard::daemon {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

inline constexpr EnumName<LogLevel> kLogLevelNames[] = {
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},
    {LogLevel::kError, "error"},
};
inline constexpr EnumName<LogFormat> kLogFormatNames[] = {
    {LogFormat::kText, "text"},
    {LogFormat::kJson, "json"},
};

}  // namespace sixguard::daemon
