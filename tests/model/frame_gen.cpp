#include "tests/model/frame_gen.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace sixguard::model {

namespace {

// Bytes built inside out: each layer prepends its header. `fields` are offsets of length-like
// fields (lengths, next headers, flags) that mutations like to hit; they shift with prepends.
struct Blob {
  std::vector<uint8_t> b;
  std::vector<size_t> fields;

  void prepend(const std::vector<uint8_t> &header, std::vector<size_t> header_fields = {}) {
    b.insert(b.begin(), header.begin(), header.end());
    for (auto &f : fields) f += header.size();
    fields.insert(fields.end(), header_fields.begin(), header_fields.end());
  }
};

void put16(std::vector<uint8_t> &v, size_t off, uint16_t value) {
  v[off] = static_cast<uint8_t>(value >> 8);
  v[off + 1] = static_cast<uint8_t>(value);
}

class Builder {
 public:
  Builder(const GeneratorInput &input, uint64_t seed) : in_(input), rng_(seed) {}

  Frame frame() {
    Frame out;
    uint16_t type = 0x86dd;
    Blob l3;
    const int r = pick(100);
    if (r < 70) {
      l3 = ipv6(1);
    } else if (r < 85) {
      type = 0x0800;
      l3 = ipv4(1);
    } else {
      static const uint16_t others[] = {0x0806, 0x8847, 0x8848, 0x8863, 0x8864, 0x9100, 0x88cc};
      type = others[pick(7)];
      char label[16];
      std::snprintf(label, sizeof(label), "0x%04x/", type);
      shape_ += label;
      l3 = pick(2) ? ipv6(1) : random_bytes(pick(60));
      if (type == 0x8847 || type == 0x8848) l3.prepend({0x00, 0x01, 0x01, 0x40});  // one label
      if (type == 0x8864) l3.prepend({0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x57});
    }
    out.l3_protocol = type;
    if (chance(5)) out.l3_protocol = type == 0x86dd ? 0x0800 : 0x86dd;  // device lies
    Blob frame = l3;
    const size_t tags = ethernet_header(frame, type);
    out.l3_offset = 14 + 4 * tags;
    if (chance(35)) mutate(frame);
    out.bytes = std::move(frame.b);
    if (out.bytes.size() < 14) out.bytes.resize(14, 0);  // the test run's minimum
    out.shape = shape_;
    return out;
  }

 private:
  uint32_t pick(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng_() % n); }
  bool chance(uint32_t percent) { return pick(100) < percent; }
  uint8_t byte() { return static_cast<uint8_t>(rng_()); }

  Blob random_bytes(size_t n) {
    Blob blob;
    blob.b.resize(n);
    for (auto &x : blob.b) x = byte();
    return blob;
  }

  Ipv6 address() {
    const int r = pick(100);
    if (in_.machine && r < 30) {
      Ipv6 a = in_.machine->prefix;
      const int k = pick(4);
      a.octets[15] = k == 0 ? 2 : k == 1 ? 0 : byte();
      a.octets[14] = k == 3 ? byte() : k == 1 ? 0xff : 0;
      return a;
    }
    if (r < 85 && !in_.pool.empty()) return in_.pool[pick(in_.pool.size())];
    Ipv6 a;
    for (auto &o : a.octets) o = byte();
    if (r < 95) {  // random 6PN on a random network
      a.octets[0] = 0xfd;
      a.octets[1] = 0xaa;
    }
    return a;
  }

  // Ethernet (and tags) in front of `blob`; returns the tags written. Its label goes into the
  // shape at shape_at (the outer one at 0; an inner one where its content's label began).
  size_t ethernet_header(Blob &blob, uint16_t type, size_t shape_at = 0) {
    const int max_tags = 3;
    std::string label = shape_at == 0 ? "eth/" : "/eth";
    std::string tags_label;
    int tags = 0;
    const int r = pick(100);
    if (r >= 60) tags = r < 85 ? 1 : r < 95 ? 2 : max_tags;
    uint16_t next = type;
    for (int i = 0; i < tags; ++i) {
      static const uint16_t tpids[] = {0x8100, 0x8100, 0x88a8, 0x9100};
      const uint16_t tpid = tpids[pick(4)];
      std::vector<uint8_t> tag(4);
      put16(tag, 0, chance(20) ? 0 : static_cast<uint16_t>(pick(4096)));  // VLAN id 0 too
      put16(tag, 2, next);
      blob.prepend(tag, {2});
      next = tpid;
      const std::string tag_label = tpid == 0x9100 ? "t9100" : tpid == 0x88a8 ? "ad" : "q";
      // Tags are written innermost first: each new one is the outermost so far.
      tags_label = (shape_at == 0 ? tag_label + "/" : "/" + tag_label) + tags_label;
    }
    std::vector<uint8_t> eth(14);
    for (int i = 0; i < 12; ++i) eth[i] = byte();
    put16(eth, 12, next);
    blob.prepend(eth, {12});
    shape_.insert(std::min(shape_at, shape_.size()), label + tags_label);
    return static_cast<size_t>(tags);
  }

  Blob inner_ethernet(int depth) {
    const size_t at = shape_.size();
    const int r = pick(100);
    Blob inner;
    uint16_t type = 0x86dd;
    if (r < 65) {
      inner = ipv6(depth);
    } else if (r < 85) {
      type = 0x0800;
      inner = ipv4(depth);
    } else {
      type = r < 95 ? 0x0806 : static_cast<uint16_t>(rng_());
      inner = random_bytes(28);
      shape_ += type == 0x0806 ? "/arp" : "/other";
    }
    ethernet_header(inner, type, at);
    return inner;
  }

  // What an IP header carries; sets protocol. depth: the level of the carrying header.
  Blob upper(int depth, uint8_t &protocol, bool v6) {
    const bool can_nest = depth < 4 && chance(depth == 1 ? 45 : depth == 2 ? 35 : 30);
    if (can_nest) {
      const int t = pick(100);
      if (t < 25) {
        protocol = 41;
        shape_ += "/41";
        return ipv6(depth + 1);
      }
      if (t < 30) {
        protocol = 4;
        shape_ += "/ipip";
        return ipv4(depth + 1);
      }
      if (t < 60) return gre(depth, protocol);
      return udp_tunnel(depth, protocol);
    }
    const int t = pick(100);
    if (t < 20) {
      protocol = 6;
      shape_ += "/tcp";
      // Now and then a frame longer than a page: XDP multi-buffer, counted whole.
      if (chance(4)) {
        shape_ += "(big)";
        return random_bytes(3600 + pick(5000));
      }
      return random_bytes(20 + pick(20));
    }
    if (t < 40) {
      protocol = 17;
      shape_ += "/udp";
      Blob payload = random_bytes(pick(40));
      return udp(payload, chance(50) ? 53 : static_cast<uint16_t>(rng_()));
    }
    if (t < 65 && v6) {
      protocol = 58;
      return icmpv6(depth);
    }
    if (t < 72) {
      protocol = 59;
      shape_ += "/59";
      return random_bytes(pick(3) == 0 ? 0 : pick(16));
    }
    if (t < 78) {
      protocol = 50;
      shape_ += "/esp";
      return random_bytes(8 + pick(32));
    }
    if (t < 84) {
      protocol = chance(50) ? 137 : 115;
      shape_ += "/" + std::to_string(protocol);
      Blob inside = chance(50) ? ipv6(depth + 1) : random_bytes(16);
      inside.prepend({0x00, 0x01, 0x01, 0x40});
      return inside;
    }
    if (t < 88) {
      protocol = 1;
      shape_ += "/icmp";
      return random_bytes(8 + pick(20));
    }
    protocol = byte();
    shape_ += "/p" + std::to_string(protocol);
    return random_bytes(pick(40));
  }

  Blob udp(Blob payload, uint16_t port) {
    std::vector<uint8_t> h(8);
    put16(h, 0, static_cast<uint16_t>(rng_()));
    put16(h, 2, port);
    put16(h, 4, static_cast<uint16_t>(payload.b.size() + 8));
    payload.prepend(h, {2, 4});
    return payload;
  }

  Blob udp_tunnel(int depth, uint8_t &protocol) {
    protocol = 17;
    const int t = pick(100);
    if (t < 40) {
      shape_ += "/vxlan";
      Blob inner = inner_ethernet(depth + 1);
      std::vector<uint8_t> vx(8, 0);
      vx[0] = chance(90) ? 0x08 : byte();
      return udp(prepended(inner, vx, {0}), 4789);
    }
    if (t < 75) {
      shape_ += "/geneve";
      const size_t options = chance(50) ? 0 : pick(6);
      std::vector<uint8_t> gn(8 + options * 4, 0);
      for (size_t i = 8; i < gn.size(); ++i) gn[i] = byte();
      gn[0] = static_cast<uint8_t>(options);
      Blob inner;
      const int k = pick(100);
      uint16_t proto;
      if (k < 50) {
        proto = 0x6558;
        inner = inner_ethernet(depth + 1);
      } else if (k < 80) {
        proto = 0x86dd;
        inner = ipv6(depth + 1);
      } else if (k < 92) {
        proto = 0x0800;
        inner = ipv4(depth + 1);
      } else {
        proto = static_cast<uint16_t>(rng_());
        inner = random_bytes(20);
      }
      put16(gn, 2, proto);
      return udp(prepended(inner, gn, {0, 2}), 6081);
    }
    // A configured (or not configured) extra port, VXLAN framing.
    const uint16_t port = in_.udp_ports.empty() ? 8472 : in_.udp_ports[pick(in_.udp_ports.size())];
    shape_ += "/udp" + std::to_string(port);
    Blob inner = inner_ethernet(depth + 1);
    std::vector<uint8_t> vx(8, 0);
    vx[0] = 0x08;
    return udp(prepended(inner, vx, {0}), port);
  }

  static Blob prepended(Blob blob, const std::vector<uint8_t> &h, std::vector<size_t> fields) {
    blob.prepend(h, std::move(fields));
    return blob;
  }

  Blob gre(int depth, uint8_t &protocol) {
    protocol = 47;
    uint16_t flags = 0;
    if (chance(30)) flags |= 0x8000;
    if (chance(30)) flags |= 0x2000;
    if (chance(30)) flags |= 0x1000;
    if (chance(5)) flags |= 0x4000;                          // routing: malformed
    if (chance(5)) flags |= static_cast<uint16_t>(pick(8));  // version: malformed unless 0
    size_t len = 4;
    for (uint16_t bit : {0x8000, 0x2000, 0x1000}) {
      if (flags & bit) len += 4;
    }
    std::vector<uint8_t> h(len, 0);
    for (size_t i = 4; i < len; ++i) h[i] = byte();
    put16(h, 0, flags);
    Blob inner;
    const int k = pick(100);
    uint16_t proto;
    if (k < 45) {
      proto = 0x86dd;
      shape_ += "/gre";
      inner = ipv6(depth + 1);
    } else if (k < 65) {
      proto = 0x0800;
      shape_ += "/gre";
      inner = ipv4(depth + 1);
    } else if (k < 92) {
      proto = 0x6558;
      shape_ += "/greteb";
      inner = inner_ethernet(depth + 1);
    } else {
      proto = static_cast<uint16_t>(rng_());
      shape_ += "/gre?";
      inner = random_bytes(20);
    }
    put16(h, 2, proto);
    inner.prepend(h, {0, 2});
    return inner;
  }

  Blob icmpv6(int depth) {
    const int t = pick(100);
    if (t < 40) {  // neighbour solicitation / advertisement with a target from the pool
      shape_ += "/nd";
      std::vector<uint8_t> nd(24, 0);
      nd[0] = chance(50) ? 135 : 136;
      const Ipv6 target = address();
      std::copy(target.octets.begin(), target.octets.end(), nd.begin() + 8);
      Blob blob;
      blob.b = nd;
      return blob;
    }
    if (t < 75) {  // an error embedding (the start of) another packet
      shape_ += "/icmp6err[";
      Blob inner = chance(70) ? ipv6(depth + 1) : ipv4(depth + 1);
      shape_ += "]";
      if (inner.b.size() > 48 && chance(50)) inner.b.resize(48 + pick(inner.b.size() - 48));
      std::vector<uint8_t> h(8, 0);
      h[0] = static_cast<uint8_t>(1 + pick(4));
      inner.prepend(h);
      return inner;
    }
    shape_ += "/echo";
    Blob blob = random_bytes(8 + pick(24));
    blob.b[0] = 128;
    blob.b[1] = 0;
    return blob;
  }

  // Extension headers are built innermost first; their labels go in at ext_at_ so the shape
  // reads outermost first.
  void label_ext(const std::string &label) { shape_.insert(ext_at_, label); }

  // An IPv6 extension header of kind nh in front of blob (whose first protocol is next).
  void extension(Blob &blob, uint8_t kind, uint8_t next, bool &fragment_nonfirst) {
    if (kind == 44) {
      std::vector<uint8_t> h(8, 0);
      h[0] = next;
      uint16_t offset = 0;
      if (chance(25)) offset = static_cast<uint16_t>(1 + pick(8191));
      const bool more = chance(60);
      put16(h, 2, static_cast<uint16_t>((offset << 3) | (more ? 1 : 0)));
      if (offset) fragment_nonfirst = true;
      label_ext(offset ? "/frag+" : more ? "/frag0m" : "/frag0");
      blob.prepend(h, {0, 2});
      return;
    }
    size_t len;
    if (kind == 51) {
      const uint8_t field = static_cast<uint8_t>(1 + pick(4));
      len = (field + 2) * 4u;
      std::vector<uint8_t> h(len, 0);
      for (size_t i = 2; i < len; ++i) h[i] = byte();
      h[0] = next;
      h[1] = field;
      label_ext("/ah");
      blob.prepend(h, {0, 1});
      return;
    }
    const uint8_t field = static_cast<uint8_t>(chance(70) ? 0 : pick(4));
    len = (field + 1) * 8u;
    std::vector<uint8_t> h(len, 0);
    h[0] = next;
    h[1] = field;
    if (kind == 0 && chance(30) && len >= 8) {  // a jumbo payload option
      h[2] = 0xc2;
      h[3] = 4;
      h[4] = 0;
      h[5] = 1;
      h[6] = 0;
      h[7] = 0;
      label_ext("/hbhjumbo");
    } else if (kind == 43) {
      h[2] = chance(50) ? 4 : static_cast<uint8_t>(pick(4));  // segment routing or other
      h[3] = static_cast<uint8_t>(pick(3));                   // segments left
      for (size_t i = 4; i < len; ++i) h[i] = byte();
      label_ext(h[2] == 4 ? "/srh" : "/rt");
    } else {
      if (len > 2) h[2] = 1, h[3] = static_cast<uint8_t>(len - 4);  // a PadN over the rest
      label_ext(kind == 0 ? "/hbh" : kind == 60 ? "/dst" : "/mh");
      if (kind == 135 && len > 2) h[2] = byte();  // mobility: MH type
    }
    blob.prepend(h, {0, 1});
  }

  Blob ipv6(int depth) {
    shape_ += depth == 1 ? "ipv6" : "/ipv6";
    // The extension chain (in order), then what it carries.
    std::vector<uint8_t> chain;
    const int r = pick(100);
    size_t count = 0;
    if (r >= 55) count = r < 80 ? 1 : r < 92 ? 2 + pick(3) : 6 + pick(5);
    static const uint8_t kinds[] = {0, 43, 44, 60, 51, 135, 60, 44};
    for (size_t i = 0; i < count; ++i) chain.push_back(kinds[pick(8)]);
    if (chance(8)) chain.push_back(44), chain.push_back(44);  // nested fragment headers
    const size_t label = shape_.size();
    std::string chain_shape;
    uint8_t protocol = 0;
    Blob blob = upper(depth, protocol, true);
    const std::string upper_shape = shape_.substr(label);
    shape_.resize(label);
    bool nonfirst = false;
    uint8_t next = protocol;
    ext_at_ = shape_.size();
    for (size_t i = chain.size(); i-- > 0;) {
      extension(blob, chain[i], next, nonfirst);
      next = chain[i];
    }
    // extension() appended its names innermost first; the order in the label matters little.
    shape_ += upper_shape;
    std::vector<uint8_t> h(40, 0);
    h[0] = chance(3) ? static_cast<uint8_t>(pick(16) << 4) : 0x60;
    h[1] = byte();
    uint16_t length = static_cast<uint16_t>(blob.b.size());
    const int l = pick(100);
    if (l < 4) {
      length = 0;
    } else if (l < 8) {
      length = static_cast<uint16_t>(length + 1 + pick(16));
    } else if (l < 12) {
      length = static_cast<uint16_t>(length - std::min<uint16_t>(length, 1 + pick(8)));
    }
    put16(h, 4, length);
    h[6] = next;
    h[7] = 64;
    const Ipv6 src = address();
    const Ipv6 dst = address();
    std::copy(src.octets.begin(), src.octets.end(), h.begin() + 8);
    std::copy(dst.octets.begin(), dst.octets.end(), h.begin() + 24);
    blob.prepend(h, {0, 4, 6});
    return blob;
  }

  Blob ipv4(int depth) {
    shape_ += depth == 1 ? "ipv4" : "/ipv4";
    uint8_t protocol = 0;
    Blob blob = upper(depth, protocol, false);
    const size_t options = chance(85) ? 0 : pick(4);
    std::vector<uint8_t> h(20 + options * 4, 0);
    for (size_t i = 20; i < h.size(); ++i) h[i] = 1;  // NOPs
    h[0] = static_cast<uint8_t>(chance(3) ? byte() : 0x40 | (5 + options));
    uint16_t total = static_cast<uint16_t>(h.size() + blob.b.size());
    const int l = pick(100);
    if (l < 4) {
      total = static_cast<uint16_t>(total + 1 + pick(16));
    } else if (l < 8) {
      total = static_cast<uint16_t>(pick(total + 1));
    }
    put16(h, 2, total);
    uint16_t frag = chance(50) ? 0x4000 : 0;  // DF
    if (chance(12)) frag = static_cast<uint16_t>(1 + pick(0x1fff));
    if (chance(8)) frag |= 0x2000;  // MF
    put16(h, 6, frag);
    h[8] = 64;
    h[9] = protocol;
    for (size_t i = 12; i < 20; ++i) h[i] = byte();
    blob.prepend(h, {0, 2, 6, 9});
    return blob;
  }

  void mutate(Blob &frame) {
    const int ops = 1 + static_cast<int>(pick(3));
    for (int i = 0; i < ops && !frame.b.empty(); ++i) {
      auto &b = frame.b;
      const size_t hot = std::min<size_t>(b.size(), 160);  // headers live at the front
      switch (pick(6)) {
        case 0: {
          const size_t at = chance(80) ? pick(hot) : pick(b.size());
          b[at] ^= static_cast<uint8_t>(1u << pick(8));
          shape_ += " +flip";
          break;
        }
        case 1:
          b.resize(14 + pick(b.size() > 14 ? b.size() - 14 : 1));
          shape_ += " +trunc";
          break;
        case 2:
        case 3: {
          if (frame.fields.empty()) break;
          const size_t at = frame.fields[pick(frame.fields.size())];
          if (at + 1 >= b.size()) break;
          const int k = pick(5);
          uint16_t value = static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
          value = k == 0   ? 0
                  : k == 1 ? 0xffff
                  : k == 2 ? value + 1
                  : k == 3 ? value - 1
                           : static_cast<uint16_t>(rng_());
          if (chance(50)) {
            b[at] = static_cast<uint8_t>(value);  // a one-byte field
          } else {
            put16(b, at, value);
          }
          shape_ += " +field";
          break;
        }
        case 4: {
          const size_t at = pick(hot + 1);
          const size_t n = 1 + pick(8);
          for (size_t j = 0; j < n; ++j) b.insert(b.begin() + static_cast<long>(at), byte());
          shape_ += " +insert";
          break;
        }
        case 5: {
          if (b.size() <= 15) break;
          const size_t at = pick(hot);
          const size_t n = std::min<size_t>(1 + pick(8), b.size() - at);
          b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
          shape_ += " +delete";
          break;
        }
      }
    }
  }

  const GeneratorInput &in_;
  std::mt19937_64 rng_;
  std::string shape_;
  size_t ext_at_ = 0;
};

uint64_t mix(uint64_t x) {  // splitmix64: independent streams per (seed, index)
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<uint8_t> Frame::l3_packet() const {
  if (l3_offset >= bytes.size()) return {};
  return {bytes.begin() + static_cast<long>(l3_offset), bytes.end()};
}

Frame generate_frame(const GeneratorInput &input, uint64_t seed, uint64_t index) {
  return Builder(input, mix(seed ^ mix(index))).frame();
}

std::string hex(const std::vector<uint8_t> &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::vector<uint8_t> from_hex(const std::string &text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

}  // namespace sixguard::model
