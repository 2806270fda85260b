#include "payloads.hpp"

namespace guardian::webhook {

int severity_rank(const std::string& severity) {
  if (severity == "info") return 0;
  if (severity == "warning") return 1;
  if (severity == "critical") return 2;
  return -1;
}

nlohmann::json alertmanager_alert(const nlohmann::json& alert, const PayloadContext& context, const std::string& ends_at) {
  nlohmann::json labels = {{"alertname", alert.value("type", "GUARDIAN_ALERT")},
                           {"severity", alert.value("severity", "critical")},
                           {"run", context.run_id},
                           {"host", context.host},
                           {"source", alert.value("source", "")},
                           {"subject", alert.value("subject", "")}};
  // Alertmanager treats an empty label as absent; drop them so the identity stays stable.
  for (auto it = labels.begin(); it != labels.end();) {
    if (it->is_string() && it->get<std::string>().empty()) {
      it = labels.erase(it);
    } else {
      ++it;
    }
  }
  nlohmann::json out = {{"labels", labels},
                        {"annotations", {{"summary", alert.value("title", "")}, {"description", alert.value("message", "")}}},
                        {"startsAt", alert.value("ts", "")}};
  if (!ends_at.empty()) out["endsAt"] = ends_at;
  if (!context.generator_url.empty()) out["generatorURL"] = context.generator_url;
  if (out["startsAt"] == "") out.erase("startsAt");
  return out;
}

std::string body_for(Format format, const nlohmann::json& alert, const PayloadContext& context,
                     const std::string& resolved_at) {
  switch (format) {
    case Format::alertmanager:
      return nlohmann::json::array({alertmanager_alert(alert, context, resolved_at)}).dump();
    case Format::json: {
      nlohmann::json body = {{"kind", resolved_at.empty() ? "alert" : "alert_resolved"},
                             {"host", context.host},
                             {"run_id", context.run_id},
                             {"alert", alert}};
      if (!resolved_at.empty()) body["resolved_at"] = resolved_at;
      return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    case Format::slack: {
      const std::string severity = alert.value("severity", "critical");
      std::string tag = resolved_at.empty() ? severity : "resolved";
      for (auto& c : tag) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string text = "[" + tag + "] " + alert.value("type", "") + " " + alert.value("title", "") + " (" +
                         context.host + ", run " + context.run_id + ")";
      const std::string message = alert.value("message", "");
      if (resolved_at.empty() && !message.empty()) text += "\n" + message;
      return nlohmann::json{{"text", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return "{}";
}

}  // namespace guardian::webhook
