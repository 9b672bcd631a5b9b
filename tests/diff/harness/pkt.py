"""IPv4 packet and Ethernet frame builders (standard library only).

Everything is built byte by byte so that malformed packets (bad checksums,
wrong lengths, truncated headers) are as easy to make as good ones.
"""
import socket
import struct

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
IP_MF = 0x2000
IP_DF = 0x4000
IP_OFFMASK = 0x1FFF


def csum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def addr(a: str) -> bytes:
    return socket.inet_aton(a)


def l4_csum(src: bytes, dst: bytes, proto: int, seg: bytes) -> int:
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def udp(src, dst, sport, dport, payload, length=None, check="good"):
    """UDP header + payload. length overrides the UDP length field; check is
    'good', 'bad' or 'zero' (no checksum)."""
    ulen = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if check == "zero":
        return seg
    c = l4_csum(addr(src), addr(dst), socket.IPPROTO_UDP, seg) or 0xFFFF
    if check == "bad":
        c ^= 0x5A5A
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport, flags=0x02, seq=1, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    c = l4_csum(addr(src), addr(dst), socket.IPPROTO_TCP, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp(type_, code, rest=b"\0\0\0\0", payload=b""):
    msg = struct.pack("!BBH", type_, code, 0) + rest + payload
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def ipv4(src, dst, proto, payload, *, ttl=64, tos=0, ident=1, flags=0, frag=0,
         options=b"", tot_len=None, check="good", version=4, ihl=None):
    """IPv4 header + payload. frag is the fragment offset in bytes (multiple
    of 8); flags holds IP_DF / IP_MF. tot_len, check ('good'/'bad'), version
    and ihl can be forced to make malformed headers."""
    if len(options) % 4:
        raise ValueError("IPv4 options must be padded to 4 bytes")
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if tot_len is None else tot_len
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, total, ident,
                    flags | (frag // 8), ttl, proto, 0, addr(src), addr(dst)) + options
    c = csum(h)
    if check == "bad":
        c ^= 0x1234
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def fix_ipv4_header(pkt: bytes) -> bytes:
    """Total length and header checksum set right, as the kernel does for an
    IP_HDRINCL send and after reassembly."""
    hl = (pkt[0] & 0xF) * 4
    h = bytearray(pkt[:hl])
    struct.pack_into("!H", h, 2, len(pkt))
    struct.pack_into("!H", h, 10, 0)
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h) + pkt[hl:]


def eth(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def arp_request(src_mac: bytes, src_ip: str, target_ip: str) -> bytes:
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, src_mac, addr(src_ip),
                       b"\0" * 6, addr(target_ip))
    return eth(b"\xff" * 6, src_mac, ETH_P_ARP, body)


def is_arp_reply_from(frame: bytes, ip: str) -> bool:
    if len(frame) < 42 or struct.unpack("!H", frame[12:14])[0] != ETH_P_ARP:
        return False
    op = struct.unpack("!H", frame[20:22])[0]
    return op == 2 and frame[28:32] == addr(ip)


def fragment(datagram: bytes, sizes):
    """Split an IPv4 datagram into fragments carrying `sizes` bytes of IP
    payload each (all but the last a multiple of 8; the last takes the rest).
    Every fragment copies the whole header (options included)."""
    hl = (datagram[0] & 0xF) * 4
    hdr, data = datagram[:hl], datagram[hl:]
    frags, off = [], 0
    for i, size in enumerate(list(sizes) + [None]):
        chunk = data[off:] if size is None else data[off:off + size]
        if size is None and not chunk:
            break
        last = size is None or off + size >= len(data)
        if not last and size % 8:
            raise ValueError("non-final fragment sizes must be multiples of 8")
        h = bytearray(hdr)
        fl = struct.unpack("!H", h[6:8])[0] & IP_DF
        if not last:
            fl |= IP_MF
        struct.pack_into("!H", h, 6, fl | (off // 8))
        frags.append(fix_ipv4_header(bytes(h) + chunk))
        off += len(chunk)
        if last:
            break
    return frags


# Field accessors used by the kernel path model.
def ip_ihl(p):
    return (p[0] & 0xF) * 4


def ip_tot_len(p):
    return struct.unpack("!H", p[2:4])[0]


def ip_frag_field(p):
    return struct.unpack("!H", p[6:8])[0]


def ip_is_fragment(p):
    return (ip_frag_field(p) & (IP_MF | IP_OFFMASK)) != 0


def ip_frag_offset(p):
    return (ip_frag_field(p) & IP_OFFMASK) * 8


def ip_proto(p):
    return p[9]


def ip_src(p):
    return socket.inet_ntoa(p[12:16])


def ip_dst(p):
    return socket.inet_ntoa(p[16:20])
