package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.udp.UdpHeader;

import java.util.Set;

/**
 * One message written to a {@link CoalescingHandler} and held until the flush, with what the
 * merge rules need to know about it, read once from its headers.
 *
 * <p>A packet is a <em>candidate</em> for merging when the kernel's segmentation of a
 * super-packet made from it gives back exactly its bytes: an IPv4 packet without options and not
 * a fragment, or an IPv6 packet whose next header is the transport (no extension headers), its
 * length field exactly the buffer's; carrying TCP with ACK alone or ACK and PSH (no SYN, FIN,
 * RST, URG, ECE, CWR) or UDP with a checksum (an IPv4 UDP checksum of 0 would come back
 * computed); at least one payload byte; valid checksums (the super-packet's are completed by the
 * kernel, so merging a corrupt packet would repair it); and an offload the kernel accepted for
 * its family and protocol. Anything else still has a {@link #flow} when its transport header is
 * readable, so it keeps its place among its flow's packets.
 */
final class HeldPacket {

    private static final int TCP_DATA_FLAGS = TcpHeader.ACK;
    private static final int TCP_LAST_FLAGS = TcpHeader.ACK | TcpHeader.PSH;

    final Object message;
    final ChannelPromise promise;
    /** The flow of an IPv4/IPv6 TCP or UDP packet, or null. */
    FlowKey flow;
    boolean candidate;
    boolean ipv6;
    int protocol;
    int ipHeaderLength;
    int transportHeaderLength;
    int payloadLength;
    /** TCP: the sequence number and whether PSH is set. */
    long sequence;
    boolean push;

    HeldPacket(Object message, ChannelPromise promise) {
        this.message = message;
        this.promise = promise;
    }

    /** The packet as a buffer; only for a message that is one. */
    ByteBuf buffer() {
        return (ByteBuf) message;
    }

    /** Index of the IP header. */
    int ip() {
        return buffer().readerIndex();
    }

    /** Index of the transport header. */
    int transport() {
        return ip() + ipHeaderLength;
    }

    /** Headers (IP and transport) in bytes: a virtio-net header's hdr_len. */
    int headersLength() {
        return ipHeaderLength + transportHeaderLength;
    }

    /**
     * Reads what the merge rules need from the message, given the offloads the kernel accepted;
     * never throws for any bytes.
     */
    void readHeaders(Set<GsoOffload> allowed) {
        if (message instanceof ByteBuf buf && buf.refCnt() > 0) {
            read(buf, allowed);
        }
    }

    private void read(ByteBuf buf, Set<GsoOffload> allowed) {
        int at = buf.readerIndex();
        int length = buf.readableBytes();
        if (length < 1) {
            return;
        }
        GsoOffload needed;
        boolean plainIp;
        int version = Ipv4Header.version(buf, at);
        if (version == 4 && Ipv4Header.check(buf, at, length, false) == null) {
            ipHeaderLength = Ipv4Header.headerLength(buf, at);
            protocol = Ipv4Header.protocol(buf, at);
            if (Ipv4Header.isFragment(buf, at)) {
                return; // a fragment's transport header is elsewhere
            }
            plainIp = ipHeaderLength == Ipv4Header.MIN_LENGTH && Ipv4Header.totalLength(buf, at) == length
                    && InternetChecksum.checksum(buf, at, ipHeaderLength) == 0;
            flow = transportFlow(buf, at, length, false);
            needed = protocol == TcpHeader.PROTOCOL ? GsoOffload.TSO4 : GsoOffload.USO4;
        } else if (version == 6 && Ipv6Header.check(buf, at, length) == null) {
            ipv6 = true;
            ipHeaderLength = Ipv6Header.LENGTH;
            protocol = Ipv6Header.nextHeader(buf, at);
            plainIp = Ipv6Header.LENGTH + Ipv6Header.payloadLength(buf, at) == length;
            flow = transportFlow(buf, at, length, true);
            needed = protocol == TcpHeader.PROTOCOL ? GsoOffload.TSO6 : GsoOffload.USO6;
        } else {
            return;
        }
        candidate = flow != null && plainIp && allowed.contains(needed) && transportMergeable(buf, at, length);
    }

    /** The flow of a TCP or UDP packet whose ports are readable, else null. */
    private FlowKey transportFlow(ByteBuf buf, int at, int length, boolean v6) {
        if (protocol != TcpHeader.PROTOCOL && protocol != Ipv4Header.PROTOCOL_UDP
                || length - ipHeaderLength < UdpHeader.LENGTH) {
            return null;
        }
        int l4 = at + ipHeaderLength;
        int sourcePort = UdpHeader.sourcePort(buf, l4); // the ports are in the same place in TCP
        int destinationPort = UdpHeader.destinationPort(buf, l4);
        if (v6) {
            return new FlowKey(true, protocol, Ipv6Header.sourceHigh(buf, at), Ipv6Header.sourceLow(buf, at),
                    Ipv6Header.destinationHigh(buf, at), Ipv6Header.destinationLow(buf, at), sourcePort, destinationPort);
        }
        return new FlowKey(false, protocol, 0, Ipv4Header.source(buf, at) & 0xFFFF_FFFFL, 0,
                Ipv4Header.destination(buf, at) & 0xFFFF_FFFFL, sourcePort, destinationPort);
    }

    private boolean transportMergeable(ByteBuf buf, int at, int length) {
        int l4 = at + ipHeaderLength;
        int l4Length = length - ipHeaderLength;
        if (protocol == TcpHeader.PROTOCOL) {
            if (l4Length < TcpHeader.MIN_LENGTH) {
                return false;
            }
            transportHeaderLength = TcpHeader.headerLength(buf, l4);
            int flags = TcpHeader.flags(buf, l4);
            if (transportHeaderLength < TcpHeader.MIN_LENGTH || transportHeaderLength >= l4Length
                    || flags != TCP_DATA_FLAGS && flags != TCP_LAST_FLAGS || TcpHeader.urgentPointer(buf, l4) != 0) {
                return false;
            }
            sequence = TcpHeader.sequenceNumber(buf, l4);
            push = flags == TCP_LAST_FLAGS;
        } else {
            transportHeaderLength = UdpHeader.LENGTH;
            if (UdpHeader.length(buf, l4) != l4Length || l4Length == UdpHeader.LENGTH
                    || UdpHeader.checksumField(buf, l4) == 0) {
                return false;
            }
        }
        payloadLength = l4Length - transportHeaderLength;
        long pseudo = pseudoHeaderSum(ipv6, protocol, buf, at, l4Length);
        return InternetChecksum.finish(InternetChecksum.add(pseudo, buf, l4, l4Length)) == 0;
    }

    /** The family's pseudo-header sum for a transport length, over the addresses of the IP header at {@code at}. */
    static long pseudoHeaderSum(boolean ipv6, int protocol, ByteBuf buf, int at, int transportLength) {
        return ipv6
                ? InternetChecksum.pseudoHeaderSumIpv6(buf, at, protocol, transportLength)
                : InternetChecksum.pseudoHeaderSum(Ipv4Header.source(buf, at), Ipv4Header.destination(buf, at),
                        protocol, transportLength);
    }
}
