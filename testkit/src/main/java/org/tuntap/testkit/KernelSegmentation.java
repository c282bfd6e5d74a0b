package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.vnet.VirtioNetHeader;

import java.util.ArrayList;
import java.util.List;

/**
 * What the kernel makes of a packet written to a TUN/TAP fd behind a virtio-net header, by the
 * time it reaches the network (or a local socket): a super-packet segmented as
 * {@code skb_gso_segment} does ({@code tcp_gso_segment}, {@code __udp_gso_segment},
 * {@code inet_gso_segment}), a partial checksum completed as {@code skb_checksum_help} does. An
 * independent model of the kernel, written from its source, for tests of what a pipeline writes;
 * not the codec's segmentation.
 *
 * <p>Per segment of {@code gso_size} payload bytes, the super-packet's headers are copied in
 * front and then: IPv4 total length, identification (the first's, counting up) and header
 * checksum; IPv6 payload length; TCP sequence number (counting up by the bytes before it), FIN
 * and PSH cleared but on the last segment, CWR cleared but on the first; UDP length. The
 * transport checksum starts from the super-packet's partial one (with {@code NEEDS_CSUM}: the
 * pseudo-header sum over the whole transport length, folded, not inverted), moved to the
 * segment's length, then completed over the segment's bytes, so a wrong partial sum gives wrong
 * checksums here as it would on the wire. A computed UDP checksum of 0 is sent as 0xFFFF.
 */
public final class KernelSegmentation {

    private KernelSegmentation() {
    }

    /**
     * The packets the network receives for one written packet.
     *
     * @param vnetHeader the 10 bytes of {@code struct virtio_net_hdr} written in front of it
     * @param packet what followed the header: an IP packet (TUN) or an Ethernet frame (TAP)
     * @param tap whether {@code packet} is an Ethernet frame
     * @throws IllegalArgumentException for what the kernel refuses or drops, saying why
     */
    public static List<byte[]> segment(byte[] vnetHeader, byte[] packet, boolean tap) {
        if (vnetHeader.length != VirtioNetHeader.LENGTH) {
            throw new IllegalArgumentException("a virtio_net_hdr is " + VirtioNetHeader.LENGTH + " bytes, not " + vnetHeader.length);
        }
        ByteBuf header = Unpooled.wrappedBuffer(vnetHeader);
        ByteBuf in = Unpooled.wrappedBuffer(packet);
        try {
            return segment(header, in, tap ? EthernetHeader.LENGTH : 0);
        } finally {
            header.release();
            in.release();
        }
    }

    private static List<byte[]> segment(ByteBuf header, ByteBuf in, int ip) {
        boolean needsChecksum = VirtioNetHeader.needsChecksum(header, 0);
        int gso = VirtioNetHeader.gsoProtocol(header, 0);
        if (gso == VirtioNetHeader.GSO_NONE) {
            if (needsChecksum) {
                int offset = VirtioNetHeader.csumOffset(header, 0);
                completeChecksum(in, VirtioNetHeader.csumStart(header, 0), offset, offset == UdpHeader.CHECKSUM_OFFSET);
            }
            return List.of(ByteBufUtil.getBytes(in));
        }
        if (in.readableBytes() < ip + 1) {
            throw drop("no IP header behind the virtio-net header", header);
        }
        boolean ipv6 = Ipv4Header.version(in, ip) == 6;
        int ipEnd;
        int ipHeaderLength;
        int protocol;
        if (ipv6) {
            if (Ipv6Header.check(in, ip, in.readableBytes() - ip) != null) {
                throw drop("a malformed IPv6 header", header);
            }
            ipHeaderLength = Ipv6Header.LENGTH;
            ipEnd = ip + Ipv6Header.LENGTH + Ipv6Header.payloadLength(in, ip);
            protocol = Ipv6Header.nextHeader(in, ip);
        } else {
            if (Ipv4Header.check(in, ip, in.readableBytes() - ip, true) != null) {
                throw drop("a malformed IPv4 header (ip_rcv drops it): "
                        + Ipv4Header.check(in, ip, in.readableBytes() - ip, true), header);
            }
            ipHeaderLength = Ipv4Header.headerLength(in, ip);
            ipEnd = ip + Ipv4Header.totalLength(in, ip);
            protocol = Ipv4Header.protocol(in, ip);
        }
        boolean tcp = gso == VirtioNetHeader.GSO_TCPV4 || gso == VirtioNetHeader.GSO_TCPV6;
        if (gso == VirtioNetHeader.GSO_TCPV4 && (ipv6 || protocol != TcpHeader.PROTOCOL)
                || gso == VirtioNetHeader.GSO_TCPV6 && (!ipv6 || protocol != TcpHeader.PROTOCOL)
                || gso == VirtioNetHeader.GSO_UDP_L4 && protocol != Ipv4Header.PROTOCOL_UDP
                || !tcp && gso != VirtioNetHeader.GSO_UDP_L4) {
            throw drop("a gso_type that does not match the packet (family " + (ipv6 ? 6 : 4) + ", protocol " + protocol + ")",
                    header);
        }
        int transport = ip + ipHeaderLength;
        if (needsChecksum && (VirtioNetHeader.csumStart(header, 0) != transport
                || VirtioNetHeader.csumOffset(header, 0) != (tcp ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET))) {
            throw drop("csum_start/csum_offset not at the transport header's checksum", header);
        }
        if (!tcp && !needsChecksum) {
            throw drop("GSO_UDP_L4 without NEEDS_CSUM (virtio_net_hdr_to_skb: EINVAL)", header);
        }
        int transportHeaderLength = tcp ? TcpHeader.headerLength(in, transport) : UdpHeader.LENGTH;
        int payloadStart = transport + transportHeaderLength;
        int gsoSize = VirtioNetHeader.gsoSize(header, 0);
        if (gsoSize == 0 || payloadStart > ipEnd) {
            throw drop("no gso_size or no room for the transport header", header);
        }
        if (!tcp && ipEnd - payloadStart > gsoSize * 64) {
            throw drop("more than UDP_MAX_SEGMENTS (64) segments", header);
        }
        int transportLength = ipEnd - transport;
        int oldLength = tcp ? transportLength : UdpHeader.length(in, transport);
        List<byte[]> segments = new ArrayList<>();
        int count = (ipEnd - payloadStart + gsoSize - 1) / gsoSize;
        for (int i = 0; i < count; i++) {
            int from = payloadStart + i * gsoSize;
            int length = Math.min(gsoSize, ipEnd - from);
            ByteBuf out = Unpooled.buffer(payloadStart + length);
            try {
                out.writeBytes(in, 0, payloadStart).writeBytes(in, from, length);
                int segmentLength = payloadStart + length - ip;
                if (ipv6) {
                    Ipv6Header.setPayloadLength(out, ip, segmentLength - Ipv6Header.LENGTH);
                } else {
                    Ipv4Header.setTotalLength(out, ip, segmentLength);
                    out.setShort(ip + 4, Ipv4Header.identification(in, ip) + i); // the first's, counting up
                    Ipv4Header.updateChecksum(out, ip);
                }
                int newLength = segmentLength - ipHeaderLength;
                if (tcp) {
                    TcpHeader.setSequenceNumber(out, transport, TcpHeader.sequenceNumber(in, transport) + (long) i * gsoSize);
                    int flags = TcpHeader.flags(in, transport);
                    if (i < count - 1) {
                        flags &= ~(TcpHeader.FIN | TcpHeader.PSH);
                    }
                    if (i > 0) {
                        flags &= ~TcpHeader.CWR;
                    }
                    TcpHeader.setFlags(out, transport, flags);
                } else {
                    UdpHeader.setLength(out, transport, newLength);
                }
                int checksumAt = transport + (tcp ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET);
                if (needsChecksum) {
                    // The partial sum moved from the super-packet's length to the segment's.
                    long moved = InternetChecksum.addWord(InternetChecksum.addWord(
                            in.getUnsignedShort(checksumAt), ~oldLength), newLength);
                    out.setShort(checksumAt, InternetChecksum.fold(moved));
                } else {
                    // tcp_gso_segment sets up the pseudo-header itself when the writer did not.
                    long pseudo = ipv6 ? InternetChecksum.pseudoHeaderSumIpv6(out, ip, protocol, newLength)
                            : InternetChecksum.pseudoHeaderSum(Ipv4Header.source(out, ip), Ipv4Header.destination(out, ip),
                            protocol, newLength);
                    out.setShort(checksumAt, InternetChecksum.fold(pseudo));
                }
                completeChecksum(out, transport, checksumAt - transport, !tcp);
                segments.add(ByteBufUtil.getBytes(out));
            } finally {
                out.release();
            }
        }
        return segments;
    }

    /** {@code skb_checksum_help}: the field holds a partial sum; add the bytes from {@code start} and store it inverted. */
    private static void completeChecksum(ByteBuf packet, int start, int offset, boolean udp) {
        int end = packet.writerIndex();
        if (start + offset + 2 > end) {
            throw new IllegalArgumentException("the kernel drops this: NEEDS_CSUM points past the packet");
        }
        int checksum = InternetChecksum.finish(InternetChecksum.add(0, packet, start, end - start));
        packet.setShort(start + offset, checksum == 0 && udp ? 0xFFFF : checksum);
    }

    private static IllegalArgumentException drop(String why, ByteBuf header) {
        return new IllegalArgumentException("the kernel drops this super-packet: " + why + "; "
                + VirtioNetHeader.toString(header, 0));
    }
}
