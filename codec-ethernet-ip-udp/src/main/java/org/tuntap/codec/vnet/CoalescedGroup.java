package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.tcp.TcpHeader;

import java.util.ArrayList;
import java.util.List;

/**
 * Packets of one flow, consecutive in that flow, that go out as one super-packet: the rules for
 * which packet may join (what the kernel's segmentation of the super-packet gives back exactly).
 *
 * <p>The kernel segments a super-packet by copying its first packet's headers in front of every
 * {@code gso_size} bytes of payload, then per segment: IPv4 identification counting up from the
 * first's, lengths and checksums recomputed; TCP sequence numbers counting up, FIN and PSH only on
 * the last segment, CWR only on the first. So a packet joins when its headers are what that copy
 * makes of them: the same TOS/traffic class, TTL/hop limit, DF and flow label; the next IPv4
 * identification; for TCP the next sequence number, the same acknowledgment, window and options,
 * and no PSH on the packet before it; a payload no larger than the first's, after none that was
 * smaller. At most {@link #MAX_SEGMENTS} packets (the kernel's {@code UDP_MAX_SEGMENTS}, here for
 * TCP too) and {@link #MAX_PACKET_LENGTH} bytes of IP packet.
 */
final class CoalescedGroup {

    /** Most packets in one super-packet: the kernel refuses a USO super-packet of more segments. */
    static final int MAX_SEGMENTS = 64;
    /** Largest super-packet, its IP header included: what IPv4's total length field holds. */
    static final int MAX_PACKET_LENGTH = Ipv4Header.MAX_TOTAL_LENGTH;

    private final List<HeldPacket> members = new ArrayList<>(4);
    private final HeldPacket first;
    private HeldPacket last;
    private int packetLength;

    CoalescedGroup(HeldPacket first) {
        this.first = first;
        this.last = first;
        members.add(first);
        packetLength = first.candidate ? first.headersLength() + first.payloadLength : 0;
    }

    List<HeldPacket> members() {
        return members;
    }

    HeldPacket first() {
        return first;
    }

    HeldPacket last() {
        return last;
    }

    /** Bytes of the super-packet these members make, from its IP header on. */
    int packetLength() {
        return packetLength;
    }

    /** Payload bytes per segment: the first packet's payload. */
    int segmentSize() {
        return first.payloadLength;
    }

    /** Adds {@code next} when the rules allow; false, nothing changed, when not. */
    boolean tryAppend(HeldPacket next) {
        if (!first.candidate || !next.candidate || members.size() >= MAX_SEGMENTS
                || last.payloadLength < segmentSize() || next.payloadLength > segmentSize()
                || packetLength + next.payloadLength > MAX_PACKET_LENGTH
                || !next.flow.equals(first.flow) || next.headersLength() != first.headersLength()
                || !ipHeadersFollow(next)) {
            return false;
        }
        if (first.protocol == TcpHeader.PROTOCOL && !tcpHeadersFollow(next)) {
            return false;
        }
        members.add(next);
        last = next;
        packetLength += next.payloadLength;
        return true;
    }

    private boolean ipHeadersFollow(HeldPacket next) {
        ByteBuf a = first.buffer();
        ByteBuf b = next.buffer();
        int i = first.ip();
        int j = next.ip();
        if (first.ipv6) {
            return Ipv6Header.trafficClass(a, i) == Ipv6Header.trafficClass(b, j)
                    && Ipv6Header.flowLabel(a, i) == Ipv6Header.flowLabel(b, j)
                    && Ipv6Header.hopLimit(a, i) == Ipv6Header.hopLimit(b, j);
        }
        return Ipv4Header.dscp(a, i) == Ipv4Header.dscp(b, j) && Ipv4Header.ecn(a, i) == Ipv4Header.ecn(b, j)
                && Ipv4Header.ttl(a, i) == Ipv4Header.ttl(b, j) && Ipv4Header.flags(a, i) == Ipv4Header.flags(b, j)
                && Ipv4Header.identification(b, j) == ((Ipv4Header.identification(a, i) + members.size()) & 0xFFFF);
    }

    private boolean tcpHeadersFollow(HeldPacket next) {
        ByteBuf a = first.buffer();
        ByteBuf b = next.buffer();
        int i = first.transport();
        int j = next.transport();
        return !last.push
                && next.sequence == ((last.sequence + last.payloadLength) & 0xFFFF_FFFFL)
                && TcpHeader.acknowledgmentNumber(a, i) == TcpHeader.acknowledgmentNumber(b, j)
                && TcpHeader.dataOffsetByte(a, i) == TcpHeader.dataOffsetByte(b, j)
                && TcpHeader.window(a, i) == TcpHeader.window(b, j)
                && ByteBufUtil.equals(a, i + TcpHeader.MIN_LENGTH, b, j + TcpHeader.MIN_LENGTH,
                        first.transportHeaderLength - TcpHeader.MIN_LENGTH);
    }
}
