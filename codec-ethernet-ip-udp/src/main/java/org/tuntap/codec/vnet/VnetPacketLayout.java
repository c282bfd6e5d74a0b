package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpHeader;

/**
 * What a packet read behind a {@link VirtioNetHeader} is made of, worked out from the packet's
 * own headers and checked against what the virtio-net header claims: whether it is a TCP or UDP
 * super-packet, where its transport header and payload are, and whether a partial checksum is
 * left to complete. {@link #parse} never trusts hdr_len (the kernel fills it with the length of
 * its linear buffer, not of the headers) and never reads outside the packet.
 *
 * <p>On a TUN device the packet is an IP packet; on a TAP device ({@link #forEthernet()}) an
 * Ethernet frame, and a super-packet's IP header follows an untagged Ethernet header of its
 * family's ethertype. Every offset here is from the start of the packet, link header included,
 * as the kernel counts csum_start and hdr_len.
 *
 * <p>Mutable and reused: one instance per handler, valid until the next {@code parse}.
 */
public final class VnetPacketLayout {

    private final int linkHeaderLength;

    private boolean gso;
    private boolean needsChecksum;
    private boolean ipv4;
    private int protocol;
    private int gsoSize;
    private int packetLength;
    private int transportOffset;
    private int headersLength;
    private int checksumStart;
    private int checksumOffset;

    /** An empty layout for IP packets (TUN), to be filled by {@link #parse}. */
    public VnetPacketLayout() {
        this(0);
    }

    private VnetPacketLayout(int linkHeaderLength) {
        this.linkHeaderLength = linkHeaderLength;
    }

    /** An empty layout for Ethernet frames (TAP). */
    public static VnetPacketLayout forEthernet() {
        return new VnetPacketLayout(EthernetHeader.LENGTH);
    }

    /**
     * Reads the virtio-net header at {@code headerIndex} and the packet of {@code length} bytes
     * at {@code packetIndex} (of the same or another buffer), and checks that they fit.
     *
     * <p>A super-packet (TCPV4, TCPV6 with or without ECN, UDP_L4) must be an unfragmented IPv4
     * or IPv6 packet of the gso_type's version and protocol, with its lengths within the data, a
     * gso_size above 0, and (if NEEDS_CSUM is set) csum_start/csum_offset naming its TCP/UDP
     * checksum field. An ordinary packet is only checked for what completing its checksum needs:
     * with NEEDS_CSUM, csum_start and the checksum field inside the packet.
     *
     * @return null if the packet can be passed on ({@link #isGso()}: segmented), else why not
     */
    public DropReason parse(ByteBuf header, int headerIndex, ByteBuf packet, int packetIndex, int length) {
        gsoSize = VirtioNetHeader.gsoSize(header, headerIndex);
        needsChecksum = VirtioNetHeader.needsChecksum(header, headerIndex);
        checksumStart = VirtioNetHeader.csumStart(header, headerIndex);
        checksumOffset = VirtioNetHeader.csumOffset(header, headerIndex);
        packetLength = length;
        int gsoType = VirtioNetHeader.gsoType(header, headerIndex);
        int gsoProtocol = gsoType & ~VirtioNetHeader.GSO_ECN;
        gso = gsoProtocol != VirtioNetHeader.GSO_NONE;
        if (length < 1) {
            return DropReason.TRUNCATED;
        }
        if (!gso) {
            // ECN alone means nothing; the kernel refuses it on write, and so do we on read.
            if (gsoType != VirtioNetHeader.GSO_NONE) {
                return DropReason.BAD_VNET_HEADER;
            }
            return needsChecksum && !checksumFieldWithin(length) ? DropReason.BAD_VNET_HEADER : null;
        }
        switch (gsoProtocol) {
            case VirtioNetHeader.GSO_TCPV4 -> {
                ipv4 = true;
                protocol = TcpHeader.PROTOCOL;
            }
            case VirtioNetHeader.GSO_TCPV6 -> {
                ipv4 = false;
                protocol = TcpHeader.PROTOCOL;
            }
            case VirtioNetHeader.GSO_UDP_L4 -> {
                ipv4 = length > linkHeaderLength && Ipv4Header.version(packet, packetIndex + linkHeaderLength) == 4;
                protocol = Ipv6Header.PROTOCOL_UDP;
                if ((gsoType & VirtioNetHeader.GSO_ECN) != 0) {
                    return DropReason.BAD_VNET_HEADER;
                }
            }
            default -> {
                return DropReason.UNSUPPORTED_GSO; // UFO (GSO_UDP) and anything newer than this code
            }
        }
        if (gsoSize == 0) {
            return DropReason.BAD_VNET_HEADER;
        }
        DropReason link = checkLinkHeader(packet, packetIndex, length);
        if (link != null) {
            return link;
        }
        int network = packetIndex + linkHeaderLength;
        int networkLength = length - linkHeaderLength;
        DropReason networkReason = ipv4 ? parseIpv4(packet, network, networkLength) : parseIpv6(packet, network, networkLength);
        if (networkReason != null) {
            return networkReason;
        }
        DropReason transport = protocol == TcpHeader.PROTOCOL
                ? TcpHeader.check(packet, packetIndex + transportOffset, packetLength - transportOffset)
                : checkUdp(packet, packetIndex + transportOffset, packetLength - transportOffset);
        if (transport != null) {
            return transport;
        }
        headersLength = transportOffset + (protocol == TcpHeader.PROTOCOL
                ? TcpHeader.headerLength(packet, packetIndex + transportOffset) : UdpHeader.LENGTH);
        if (needsChecksum && (checksumStart != transportOffset || checksumOffset != transportChecksumOffset())) {
            return DropReason.BAD_VNET_HEADER;
        }
        return null;
    }

    private DropReason parseIpv4(ByteBuf packet, int index, int length) {
        if (Ipv4Header.version(packet, index) != 4) {
            return DropReason.BAD_VNET_HEADER; // a TCPV4 type on something else
        }
        DropReason reason = Ipv4Header.check(packet, index, length, false);
        if (reason != null) {
            return reason;
        }
        if (Ipv4Header.isFragment(packet, index)) {
            return DropReason.FRAGMENT;
        }
        if (Ipv4Header.protocol(packet, index) != protocol) {
            return DropReason.BAD_VNET_HEADER;
        }
        transportOffset = linkHeaderLength + Ipv4Header.headerLength(packet, index);
        packetLength = linkHeaderLength + Ipv4Header.totalLength(packet, index); // bytes after it are not the packet's
        return null;
    }

    private DropReason parseIpv6(ByteBuf packet, int index, int length) {
        if (Ipv6Header.version(packet, index) != 6) {
            return DropReason.BAD_VNET_HEADER; // a TCPV6 type on something else
        }
        DropReason reason = Ipv6Header.check(packet, index, length);
        if (reason != null) {
            return reason;
        }
        int next = Ipv6Header.nextHeader(packet, index);
        if (next != protocol) {
            return next == TcpHeader.PROTOCOL || next == Ipv6Header.PROTOCOL_UDP
                    ? DropReason.BAD_VNET_HEADER : DropReason.UNSUPPORTED_GSO;
        }
        transportOffset = linkHeaderLength + Ipv6Header.LENGTH;
        packetLength = linkHeaderLength + Ipv6Header.LENGTH + Ipv6Header.payloadLength(packet, index);
        return null;
    }

    /**
     * A super-packet's Ethernet header (TAP): untagged, of the gso_type's family (the kernel's
     * segmentation copies the link header to every segment; a tagged one it would not expect).
     */
    private DropReason checkLinkHeader(ByteBuf packet, int index, int length) {
        if (linkHeaderLength == 0) {
            return null;
        }
        if (length < linkHeaderLength) {
            return DropReason.TRUNCATED;
        }
        int type = EthernetHeader.outerType(packet, index);
        if (EthernetHeader.isTagType(type)) {
            return DropReason.UNSUPPORTED_GSO;
        }
        return type == (ipv4 ? EtherType.IPV4 : EtherType.IPV6) ? null : DropReason.BAD_VNET_HEADER;
    }

    /** A UDP super-packet's length field covers the whole of it. */
    private static DropReason checkUdp(ByteBuf packet, int index, int available) {
        if (available < UdpHeader.LENGTH) {
            return DropReason.TRUNCATED;
        }
        return UdpHeader.length(packet, index) == available ? null : DropReason.BAD_LENGTH;
    }

    private boolean checksumFieldWithin(int length) {
        return checksumStart < length && checksumOffset <= length - 2 - checksumStart;
    }

    private int transportChecksumOffset() {
        return protocol == TcpHeader.PROTOCOL ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET;
    }

    /** Whether the packet is a super-packet to be segmented. */
    public boolean isGso() {
        return gso;
    }

    /** Whether the checksum at {@link #checksumStart()} + {@link #checksumOffset()} is partial (NEEDS_CSUM). */
    public boolean needsChecksum() {
        return needsChecksum;
    }

    /** Where the IP header starts, from the start of the packet: the link header's length (0 on TUN). */
    public int networkOffset() {
        return linkHeaderLength;
    }

    /** Super-packet: IPv4 (else IPv6). */
    public boolean isIpv4() {
        return ipv4;
    }

    /** Super-packet: the transport protocol, {@link TcpHeader#PROTOCOL} or UDP (17). */
    public int protocol() {
        return protocol;
    }

    /** Super-packet: payload bytes per segment. */
    public int gsoSize() {
        return gsoSize;
    }

    /** The packet's length: from its IP header for a super-packet, else the bytes given. */
    public int packetLength() {
        return packetLength;
    }

    /** Super-packet: where the TCP/UDP header starts, from the start of the packet. */
    public int transportOffset() {
        return transportOffset;
    }

    /** Super-packet: the link, IP and TCP/UDP headers' length, i.e. where the payload starts. */
    public int headersLength() {
        return headersLength;
    }

    /** Super-packet: payload bytes after the headers, to be cut into segments. */
    public int payloadLength() {
        return packetLength - headersLength;
    }

    /** csum_start, as the header gave it. */
    public int checksumStart() {
        return checksumStart;
    }

    /** csum_offset, as the header gave it. */
    public int checksumOffset() {
        return checksumOffset;
    }
}
