#include "app/core/access_list.h"

#include <algorithm>
#include <exception>
#include <sstream>

#include <toml++/toml.h>

#include "app/core/audit_log.h"  // policy_file::

namespace lifeline {
namespace {

constexpr size_t kMaxDeviceIdDigits = 32;
constexpr size_t kFingerprintHexDigits = 64;

Error FieldError(const std::string& field, std::string_view what) {
  return Error{ErrorCode::kPolicyInvalid, field + ": " + std::string(what)};
}

std::string EntryField(std::string_view list, size_t index, std::string_view key) {
  std::string out(list);
  out += "[" + std::to_string(index) + "]";
  if (!key.empty())
    out += "." + std::string(key);
  return out;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Lower-case copy of a 64-hex-digit fingerprint, or "" when `text` is not one.
std::string NormalizeFingerprint(std::string_view text) {
  if (text.size() != kFingerprintHexDigits || !std::all_of(text.begin(), text.end(), IsHexDigit))
    return {};
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Validates `entry` as element `index` of `list` ("allow" or "block"), normalizing the
// fingerprint.
Status ValidateEntry(std::string_view list, size_t index, AccessEntry* entry) {
  const bool is_allow = list == "allow";
  if (!entry->device_id.empty()) {
    if (entry->device_id.size() > kMaxDeviceIdDigits ||
        !std::all_of(entry->device_id.begin(), entry->device_id.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return FieldError(EntryField(list, index, "device_id"),
                        "must be 1 to " + std::to_string(kMaxDeviceIdDigits) + " digits");
    }
  }
  if (!entry->fingerprint.empty()) {
    std::string normalized = NormalizeFingerprint(entry->fingerprint);
    if (normalized.empty())
      return FieldError(EntryField(list, index, "fingerprint"), "must be 64 hex digits");
    entry->fingerprint = std::move(normalized);
  } else if (is_allow) {
    return FieldError(EntryField(list, index, "fingerprint"),
                      "is required (allow entries match on the device key, not the ID alone)");
  } else if (entry->device_id.empty()) {
    return FieldError(EntryField(list, index, ""), "needs a device_id, a fingerprint or both");
  }
  if (entry->note.size() > AccessList::kMaxNoteBytes) {
    return FieldError(EntryField(list, index, "note"),
                      "must be at most " + std::to_string(AccessList::kMaxNoteBytes) + " bytes");
  }
  if (std::any_of(entry->note.begin(), entry->note.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
      })) {
    return FieldError(EntryField(list, index, "note"), "must not contain control characters");
  }
  return Status::Ok();
}

Status AddEntry(std::string_view list, std::vector<AccessEntry>* entries, AccessEntry entry) {
  if (entries->size() >= AccessList::kMaxEntries) {
    return FieldError(std::string(list),
                      "has more than " + std::to_string(AccessList::kMaxEntries) + " entries");
  }
  if (Status s = ValidateEntry(list, entries->size(), &entry); !s.ok())
    return s;
  entries->push_back(std::move(entry));
  return Status::Ok();
}

size_t RemoveMatching(std::vector<AccessEntry>* entries, std::string_view key) {
  const std::string fingerprint = NormalizeFingerprint(key);
  const size_t before = entries->size();
  std::erase_if(*entries, [&](const AccessEntry& e) {
    return (!e.device_id.empty() && e.device_id == key) ||
           (!fingerprint.empty() && e.fingerprint == fingerprint);
  });
  return before - entries->size();
}

// Reads the [[allow]] or [[block]] array of tables.
Status ReadList(const toml::table& root, std::string_view list, AccessList* out) {
  const toml::node* node = root.get(list);
  if (!node)
    return Status::Ok();
  const toml::array* array = node->as_array();
  if (!array)
    return FieldError(std::string(list),
                      "must be an array of tables ([[" + std::string(list) + "]])");
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table* table = (*array)[i].as_table();
    if (!table)
      return FieldError(EntryField(list, i, ""), "must be a table");
    AccessEntry entry;
    for (auto&& [key, value] : *table) {
      const std::string_view name = key.str();
      std::string* target = name == "device_id"     ? &entry.device_id
                            : name == "fingerprint" ? &entry.fingerprint
                            : name == "note"        ? &entry.note
                                                    : nullptr;
      if (!target) {
        return FieldError(EntryField(list, i, name),
                          "unknown key (expected device_id, fingerprint or note)");
      }
      const auto* text = value.as_string();
      if (!text)
        return FieldError(EntryField(list, i, name), "must be a string");
      *target = text->get();
    }
    if (entry.device_id.empty() && table->contains("device_id"))
      return FieldError(EntryField(list, i, "device_id"), "must not be empty");
    if (entry.fingerprint.empty() && table->contains("fingerprint"))
      return FieldError(EntryField(list, i, "fingerprint"), "must be 64 hex digits");
    Status s =
        list == "allow" ? out->AddAllowed(std::move(entry)) : out->AddBlocked(std::move(entry));
    if (!s.ok())
      return s;
  }
  return Status::Ok();
}

toml::array ToTomlArray(const std::vector<AccessEntry>& entries) {
  toml::array array;
  for (const AccessEntry& e : entries) {
    toml::table table;
    if (!e.device_id.empty())
      table.insert("device_id", e.device_id);
    if (!e.fingerprint.empty())
      table.insert("fingerprint", e.fingerprint);
    if (!e.note.empty())
      table.insert("note", e.note);
    array.push_back(std::move(table));
  }
  return array;
}

}  // namespace

AccessDecision AccessList::Check(std::string_view device_id, std::string_view fingerprint) const {
  const std::string peer_fingerprint = NormalizeFingerprint(fingerprint);
  for (const AccessEntry& e : block_) {
    if ((!e.device_id.empty() && e.device_id == device_id) ||
        (!e.fingerprint.empty() && e.fingerprint == peer_fingerprint)) {
      return AccessDecision::kBlocked;
    }
  }
  if (!allowlist_active())
    return AccessDecision::kAllowed;
  if (peer_fingerprint.empty())
    return AccessDecision::kNotAllowlisted;
  for (const AccessEntry& e : allow_) {
    if (e.fingerprint == peer_fingerprint && (e.device_id.empty() || e.device_id == device_id))
      return AccessDecision::kAllowed;
  }
  return AccessDecision::kNotAllowlisted;
}

bool AccessList::allowlist_active() const {
  return allowlist_enabled_.value_or(!allow_.empty());
}

Status AccessList::AddAllowed(AccessEntry entry) {
  return AddEntry("allow", &allow_, std::move(entry));
}

Status AccessList::AddBlocked(AccessEntry entry) {
  return AddEntry("block", &block_, std::move(entry));
}

size_t AccessList::RemoveAllowed(std::string_view device_id_or_fingerprint) {
  return RemoveMatching(&allow_, device_id_or_fingerprint);
}

size_t AccessList::RemoveBlocked(std::string_view device_id_or_fingerprint) {
  return RemoveMatching(&block_, device_id_or_fingerprint);
}

Expected<AccessList> ParseAccessList(std::string_view toml_text) {
  if (toml_text.size() > AccessList::kMaxFileBytes)
    return Error{ErrorCode::kPolicyInvalid, "larger than 1 MiB"};
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error{ErrorCode::kPolicyInvalid, "line " + std::to_string(where.line) + ", column " +
                                                std::to_string(where.column) + ": " +
                                                std::string(e.description())};
  } catch (const std::exception& e) {
    return Error{ErrorCode::kPolicyInvalid, e.what()};
  }
  AccessList list;
  for (auto&& [key, value] : root) {
    const std::string_view name = key.str();
    if (name == "allowlist_enabled") {
      const auto* flag = value.as_boolean();
      if (!flag)
        return FieldError("allowlist_enabled", "must be true or false");
      list.set_allowlist_enabled(flag->get());
    } else if (name != "allow" && name != "block") {
      return FieldError(std::string(name),
                        "unknown key (expected allowlist_enabled, [[allow]] or [[block]])");
    }
  }
  if (Status s = ReadList(root, "allow", &list); !s.ok())
    return s.error();
  if (Status s = ReadList(root, "block", &list); !s.ok())
    return s.error();
  return list;
}

std::string SerializeAccessList(const AccessList& list) {
  toml::table root;
  if (list.allowlist_enabled())
    root.insert("allowlist_enabled", *list.allowlist_enabled());
  if (!list.allow().empty())
    root.insert("allow", ToTomlArray(list.allow()));
  if (!list.block().empty())
    root.insert("block", ToTomlArray(list.block()));
  std::ostringstream out;
  out << "# Lifeline access lists: [[allow]] entries match on the device key fingerprint,\n"
         "# [[block]] entries on device_id or fingerprint.\n"
      << root << "\n";
  return out.str();
}

Expected<AccessList> LoadAccessList(const std::string& path) {
  auto text = policy_file::ReadSmallFile(path, AccessList::kMaxFileBytes);
  if (!text.ok())
    return Error{ErrorCode::kPolicyIo, "access list: " + text.error().message};
  if (!text->has_value())
    return AccessList{};
  auto list = ParseAccessList(**text);
  if (!list.ok()) {
    return Error{list.error().code, "access list " + path + ": " + list.error().message};
  }
  return list;
}

Status SaveAccessList(const std::string& path, const AccessList& list) {
  return policy_file::WriteFileAtomically(path, SerializeAccessList(list));
}

}  // namespace lifeline
