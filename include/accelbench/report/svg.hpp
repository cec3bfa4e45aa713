#pragma once

// The pieces the SVG charts (svg_chart.hpp) are drawn with: text escaped
// for HTML and SVG, numbers for attributes and tick labels, value scales
// (linear or logarithmic) with their ticks, the colour palette and the
// legend. Nothing here fetches anything: a chart is a self-contained
// string of SVG elements.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace accelbench {

/// How a chart maps values to positions: `automatic` is logarithmic when
/// every value is positive and they span a factor of ten or more, else linear.
enum class ChartScale { automatic, linear, log };

namespace detail {

/// The length of the valid UTF-8 sequence at `s[i]`, or 0 where the byte
/// there does not start one (overlong forms, surrogates and code points
/// above U+10FFFF are invalid).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

/// `text` made safe for HTML text and attribute values: & < > " ' become
/// entities, each byte that is not part of valid UTF-8 and each control
/// character other than tab, line feed and carriage return becomes U+FFFD.
inline std::string html_escape(std::string_view text) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += replacement;
      ++i;
      continue;
    }
    if (n == 1) {
      const char c = text[i];
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
          if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            out += replacement;
          } else {
            out += c;
          }
      }
    } else if (n == 2 && static_cast<unsigned char>(text[i]) == 0xC2 &&
               static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      out += replacement;  // C1 control characters U+0080 to U+009F
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

/// `text` escaped, cut to at most `max_chars` characters with an ellipsis.
inline std::string html_escape_short(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0, end = 0;
  while (end < text.size() && chars < max_chars) {
    const std::size_t n = utf8_sequence_length(text, end);
    end += n == 0 ? 1 : n;
    ++chars;
  }
  if (end >= text.size()) return html_escape(text);
  return html_escape(text.substr(0, end)) + "\xE2\x80\xA6";
}

/// Characters `text` shows as (invalid bytes count once each).
inline std::size_t display_length(std::string_view text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    const std::size_t n = utf8_sequence_length(text, i);
    i += n == 0 ? 1 : n;
  }
  return chars;
}

/// Estimated width in pixels of `chars` characters of 11-pixel sans-serif text.
[[nodiscard]] inline double text_width(std::size_t chars) { return 6.4 * static_cast<double>(chars); }

/// A coordinate for an SVG attribute.
inline std::string svg_num(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

/// A value as a short label: 0.25, 12.5, 3.2k, 1.5M.
inline std::string short_number(double v) {
  if (v == 0 || !std::isfinite(v)) return v == 0 ? "0" : "-";
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

/// Colours of the series: distinct hues that stay apart in grey and for the
/// common colour-vision deficiencies, as far as ten colours can.
inline const char* palette_color(std::size_t i) {
  static constexpr const char* colors[] = {"#1f5fbf", "#e07b00", "#2a9d4b", "#c8283c", "#7a4fbf",
                                           "#8c5a2b", "#d64fa8", "#5f6b6d", "#a8a400", "#0fa3b5"};
  return colors[i % std::size(colors)];
}

/// The stroke-dasharray of dash style `i`: solid, dashed, dotted, dash-dot.
inline const char* dash_pattern(std::size_t i) {
  static constexpr const char* dashes[] = {"", "7 4", "2 3", "8 3 2 3"};
  return dashes[i % std::size(dashes)];
}

/// A map from values to pixels along one axis, with the values that get a tick.
struct Scale {
  double lo = 0, hi = 1;      ///< the values at the two ends
  bool log = false;
  double from = 0, to = 1;    ///< the pixels of `lo` and `hi`
  std::vector<double> ticks;

  [[nodiscard]] double operator()(double v) const {
    double t = 0;
    if (log) {
      const double safe = std::max(v, lo);
      t = (std::log10(safe) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    return from + t * (to - from);
  }
};

/// 1, 2 or 5 times a power of ten, the nearest at or above `raw`.
inline double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  }
  return 10 * power;
}

inline std::vector<double> finite_values(const std::vector<double>& values) {
  std::vector<double> out;
  std::copy_if(values.begin(), values.end(), std::back_inserter(out), [](double v) { return std::isfinite(v); });
  return out;
}

/// Whether `values` call for a logarithmic axis under `kind`.
inline bool use_log(const std::vector<double>& values, ChartScale kind) {
  if (values.empty() || kind == ChartScale::linear) return false;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  if (*lo <= 0) return false;
  return kind == ChartScale::log || *hi / *lo >= 10;
}

/// Ticks at 1, 2 and 5 times the powers of ten inside [lo, hi]; only the
/// powers when those would crowd the axis.
inline std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> all, powers;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
    const double p = std::pow(10.0, e);
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * p;
      if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
      all.push_back(v);
      if (m == 1.0) powers.push_back(v);
    }
  }
  return all.size() > 9 && powers.size() >= 2 ? powers : all;
}

/// A value axis over `values` (intervals included): logarithmic or linear
/// from zero, with round ticks.
inline Scale value_scale(const std::vector<double>& raw, ChartScale kind, double from, double to) {
  Scale s;
  s.from = from;
  s.to = to;
  const auto values = finite_values(raw);
  if (values.empty()) {
    s.ticks = {0, 1};
    return s;
  }
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  const double min = *min_it, max = *max_it;
  s.log = use_log(values, kind);
  if (s.log) {
    s.lo = min / 1.3;
    s.hi = max * 1.3;
    s.ticks = log_ticks(s.lo, s.hi);
    if (s.ticks.empty()) s.ticks = {min, max};
    return s;
  }
  const double lo = std::min(0.0, min);
  double hi = std::max(0.0, max);
  if (hi == lo) hi = lo + 1;
  const double step = nice_step((hi - lo) / 5);
  s.lo = std::floor(lo / step) * step;
  s.hi = std::ceil(hi / step) * step;
  for (double v = s.lo; v <= s.hi + step * 1e-6; v += step) s.ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return s;
}

/// An axis over the points of a sweep: ticks at the distinct values when
/// there are few of them, logarithmic when they span a factor of ten.
inline Scale data_scale(const std::vector<double>& raw, ChartScale kind, double from, double to) {
  auto values = finite_values(raw);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() > 12) {
    Scale s = value_scale(values, kind, from, to);
    if (!s.log) {  // a sweep need not start at zero
      const double step = s.ticks.size() > 1 ? s.ticks[1] - s.ticks[0] : 1;
      s.lo = std::floor(values.front() / step) * step;
      s.ticks.erase(std::remove_if(s.ticks.begin(), s.ticks.end(), [&](double t) { return t < s.lo; }), s.ticks.end());
    }
    return s;
  }
  Scale s;
  s.from = from;
  s.to = to;
  s.ticks = values;
  s.log = use_log(values, kind);
  if (values.empty()) {
    s.ticks = {0, 1};
  } else if (values.size() == 1) {
    s.lo = s.log ? values[0] / 2 : values[0] - 1;
    s.hi = s.log ? values[0] * 2 : values[0] + 1;
  } else {
    s.lo = values.front();
    s.hi = values.back();
  }
  return s;
}

/// Appends a legend of `names` at (`x`, `y`), in as many columns as fit in
/// `width`: a swatch (a line with its dash and a dot, or a block) and the
/// name. Returns the legend's height.
inline double append_legend(std::string& out, const std::vector<std::string>& names,
                            const std::vector<std::size_t>& colors, const std::vector<std::size_t>& dashes,
                            bool lines, double x, double y, double width) {
  if (names.empty()) return 0;
  std::size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, std::min<std::size_t>(display_length(n), 40));
  const double column = text_width(longest) + 34;
  const auto columns = std::max<std::size_t>(1, static_cast<std::size_t>(width / column));
  const double row = 16;
  out += "<g class=\"legend\">";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double cx = x + static_cast<double>(i % columns) * column;
    const double cy = y + static_cast<double>(i / columns) * row + 8;
    const char* color = palette_color(i < colors.size() ? colors[i] : i);
    if (lines) {
      const char* dash = dash_pattern(i < dashes.size() ? dashes[i] : 0);
      fmt::format_to(std::back_inserter(out),
                     "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>"
                     "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>",
                     svg_num(cx), svg_num(cy), svg_num(cx + 22), svg_num(cy), color,
                     *dash ? fmt::format(" stroke-dasharray=\"{}\"", dash) : std::string(), svg_num(cx + 11),
                     svg_num(cy), color);
    } else {
      fmt::format_to(std::back_inserter(out), "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{}\"/>",
                     svg_num(cx + 4), svg_num(cy - 5), color);
    }
    fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"{}\" dominant-baseline=\"middle\">{}</text>",
                   svg_num(cx + 28), svg_num(cy), html_escape_short(names[i], 40));
  }
  out += "</g>";
  const auto rows = (names.size() + columns - 1) / columns;
  return static_cast<double>(rows) * row + 4;
}

/// The opening tag of a chart: its kind, series and mark counts and plot
/// area as data attributes (for tools that check a rendered page), its
/// size, and an accessible title.
inline std::string svg_open(std::string_view kind, std::size_t series, std::size_t marks, double width,
                            double height, double plot_x, double plot_y, double plot_w, double plot_h,
                            std::string_view title) {
  return fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" data-series=\"{}\" data-marks=\"{}\" data-plot=\"{} {} {} {}\" "
      "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
      "<title>{}</title>",
      html_escape(kind), series, marks, svg_num(plot_x), svg_num(plot_y), svg_num(plot_w), svg_num(plot_h),
      svg_num(width), svg_num(height), svg_num(width), svg_num(height), html_escape(title));
}

/// The chart's title and, below it, a grey subtitle. Returns the height they take.
inline double append_titles(std::string& out, std::string_view title, std::string_view subtitle, double x) {
  fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
                 svg_num(x), html_escape_short(title, 90));
  if (subtitle.empty()) return 26;
  fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"31\" fill=\"#555\">{}</text>", svg_num(x),
                 html_escape_short(subtitle, 100));
  return 40;
}

/// Ticks and grid lines of a vertical value axis at x = `left`, across `width`.
inline void append_y_axis(std::string& out, const Scale& s, double left, double width) {
  for (double t : s.ticks) {
    const std::string y = svg_num(s(t));
    fmt::format_to(std::back_inserter(out),
                   "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\"/>"
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
                   svg_num(left), y, svg_num(left + width), y, svg_num(left - 5), y, short_number(t));
  }
}

/// Ticks and grid lines of a horizontal value axis below `bottom`, across `height`.
inline void append_x_axis(std::string& out, const Scale& s, double top, double height,
                          const std::vector<std::string>& labels = {}) {
  const double bottom = top + height;
  std::size_t every = 1;
  if (!labels.empty()) {
    std::size_t longest = 1;
    for (const auto& l : labels) longest = std::max(longest, std::min<std::size_t>(display_length(l), 16));
    const double room = std::abs(s.to - s.from) / static_cast<double>(std::max<std::size_t>(1, labels.size()));
    every = std::max<std::size_t>(1, static_cast<std::size_t>(text_width(longest) / std::max(room, 1.0)) + 1);
  }
  for (std::size_t i = 0; i < s.ticks.size(); ++i) {
    if (i % every != 0) continue;
    const double t = s.ticks[i];
    const std::string x = svg_num(s(t));
    fmt::format_to(std::back_inserter(out), "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\"/>", x,
                   svg_num(top), x, svg_num(bottom + 4));
    const auto index = static_cast<std::size_t>(std::max(0.0, t));
    const std::string text = labels.empty() ? short_number(t)
                                            : html_escape_short(index < labels.size() ? labels[index] : "", 16);
    fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x,
                   svg_num(bottom + 16), text);
  }
}

/// Plot frame and the axis titles.
inline void append_frame(std::string& out, double x, double y, double w, double h, std::string_view x_label,
                         std::string_view y_label) {
  fmt::format_to(std::back_inserter(out),
                 "<rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
                 svg_num(x), svg_num(y), svg_num(w), svg_num(h));
  if (!x_label.empty()) {
    fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                   svg_num(x + w / 2), svg_num(y + h + 32), html_escape_short(x_label, 80));
  }
  if (!y_label.empty()) {
    const double cx = 13, cy = y + h / 2;
    fmt::format_to(std::back_inserter(out),
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 {} {})\">"
                   "{}</text>",
                   svg_num(cx), svg_num(cy), svg_num(cx), svg_num(cy), html_escape_short(y_label, 60));
  }
}

/// An interval as a bar with caps, vertical (at x, from y1 to y2) or horizontal.
inline void append_error_bar(std::string& out, double a1, double a2, double at, bool vertical, const char* color) {
  if (vertical) {
    fmt::format_to(std::back_inserter(out),
                   "<path class=\"err\" d=\"M{0} {1}V{2}M{3} {1}H{4}M{3} {2}H{4}\" stroke=\"{5}\" fill=\"none\"/>",
                   svg_num(at), svg_num(a1), svg_num(a2), svg_num(at - 4), svg_num(at + 4), color);
  } else {
    fmt::format_to(std::back_inserter(out),
                   "<path class=\"err\" d=\"M{0} {1}H{2}M{0} {3}V{4}M{2} {3}V{4}\" stroke=\"#222\" fill=\"none\"/>",
                   svg_num(a1), svg_num(at), svg_num(a2), svg_num(at - 4), svg_num(at + 4));
  }
}

}  // namespace detail

}  // namespace accelbench
