// A minimal JSON writer. Workers serialise their results on the worker thread and the JS thread runs one
// JSON.parse, which in the emulated lab is ~10 times faster than building the same objects property by
// property through N-API (~1000 napi_set_named_property calls for 16 sessions).
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <napi.h>

namespace openiscsi {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  explicit JsonWriter(size_t reserve = 16384) { out_.reserve(reserve); }

  // Keys are our own literals: plain ASCII, nothing to escape.
  JsonWriter& Key(const char* k) {
    Separate();
    out_.push_back('"');
    out_.append(k);
    out_.append("\":", 2);
    after_key_ = true;
    return *this;
  }
  JsonWriter& Value(const std::string& v) { return Separate(), String(v), *this; }
  JsonWriter& Value(bool v) { return Separate(), out_ += v ? "true" : "false", *this; }
  JsonWriter& Value(int64_t v) {
    Separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<size_t>(r.ptr - buf));
    return *this;
  }
  JsonWriter& Value(int32_t v) { return Value(static_cast<int64_t>(v)); }
  JsonWriter& Value(uint32_t v) { return Value(static_cast<int64_t>(v)); }
  JsonWriter& Value(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return Value(static_cast<int64_t>(v));
    Separate();
    if (!std::isfinite(v)) return out_ += "null", *this;
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", v);
    return out_ += buf, *this;
  }
  JsonWriter& Null() { return Separate(), out_ += "null", *this; }
  // In a positional row, null stands for what sysfs did not have.
  JsonWriter& OrNull(const std::string& v) { return v.empty() ? Null() : Value(v); }
  template <typename T>
  JsonWriter& OrNull(const std::optional<T>& v) { return v ? Value(*v) : Null(); }

  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_.push_back(c);
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_.push_back(c);
    first_ = false;
    return *this;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  static bool Plain(unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; }

  void String(const std::string& s) {
    out_.push_back('"');
    size_t run = 0;  // copy runs of plain bytes at once; escape the rest one by one
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (Plain(c)) continue;
      out_.append(s, run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          }
      }
    }
    out_.append(s, run, s.size() - run);  // UTF-8 passes through; invalid bytes become U+FFFD in V8
    out_.push_back('"');
  }

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

// JSON.parse on the JS thread.
inline Napi::Value ParseJson(Napi::Env env, const std::string& json) {
  Napi::Object json_ns = env.Global().Get("JSON").As<Napi::Object>();
  return json_ns.Get("parse").As<Napi::Function>().Call(json_ns, {Napi::String::New(env, json)});
}

}  // namespace openiscsi
