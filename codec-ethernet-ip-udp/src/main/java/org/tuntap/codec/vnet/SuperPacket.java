package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpHeader;

/**
 * Builds the super-packet of a {@link CoalescedGroup}: the virtio-net header, the first packet's
 * headers made those of the whole, then every member's payload, in one buffer (one iovec for
 * the write; the kernel copies it once more either way).
 *
 * <p>What the kernel expects ({@code virtio_net_hdr_to_skb}, then {@code tcp_gso_segment} /
 * {@code __udp_gso_segment}): gso_type {@code GSO_TCPV4}, {@code GSO_TCPV6} or {@code GSO_UDP_L4};
 * gso_size the payload bytes per segment; hdr_len the IP and transport headers; NEEDS_CSUM (which
 * {@code GSO_UDP_L4} requires) with csum_start at the transport header and csum_offset at its
 * checksum field, which holds the pseudo-header sum over the whole super-packet's transport
 * length, folded and not inverted (the kernel adjusts it to each segment's length and adds the
 * segment's bytes). The IPv4 total length (and header checksum) or IPv6 payload length and the
 * UDP length are those of the whole: the kernel trims a packet to its IP length on receive.
 */
final class SuperPacket {

    private SuperPacket() {
    }

    /** The group's super-packet, a new buffer; the members are left as they are. */
    static ByteBuf build(ByteBufAllocator alloc, CoalescedGroup group) {
        HeldPacket first = group.first();
        int headers = first.headersLength();
        int length = group.packetLength();
        boolean tcp = first.protocol == TcpHeader.PROTOCOL;
        int gsoType = tcp ? (first.ipv6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4) : VirtioNetHeader.GSO_UDP_L4;
        ByteBuf out = alloc.ioBuffer(VirtioNetHeader.LENGTH + length);
        try {
            VirtioNetHeader.write(out, VirtioNetHeader.FLAG_NEEDS_CSUM, gsoType, headers, group.segmentSize(),
                    first.ipHeaderLength, tcp ? TcpHeader.CHECKSUM_OFFSET : UdpHeader.CHECKSUM_OFFSET);
            int ip = out.writerIndex();
            out.writeBytes(first.buffer(), first.ip(), headers);
            for (HeldPacket member : group.members()) {
                out.writeBytes(member.buffer(), member.ip() + headers, member.payloadLength);
            }
            if (first.ipv6) {
                Ipv6Header.setPayloadLength(out, ip, length - Ipv6Header.LENGTH);
            } else {
                Ipv4Header.setTotalLength(out, ip, length);
                Ipv4Header.updateChecksum(out, ip);
            }
            int transport = ip + first.ipHeaderLength;
            int transportLength = length - first.ipHeaderLength;
            int partial = InternetChecksum.fold(
                    HeldPacket.pseudoHeaderSum(first.ipv6, first.protocol, out, ip, transportLength));
            if (tcp) {
                // The kernel leaves PSH (and FIN) to the last segment only: the last packet's say.
                TcpHeader.setFlags(out, transport, TcpHeader.flags(out, transport)
                        | (group.last().push ? TcpHeader.PSH : 0));
                TcpHeader.setChecksumField(out, transport, partial);
            } else {
                UdpHeader.setLength(out, transport, transportLength);
                UdpHeader.setChecksumField(out, transport, partial);
            }
            return out;
        } catch (Throwable t) {
            out.release();
            throw t;
        }
    }
}
