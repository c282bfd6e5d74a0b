package org.tuntap.codec.icmp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.net.InetAddress;

/**
 * A validated ICMPv4 or ICMPv6 message passed up by {@link IcmpEchoResponder}: {@link #content()}
 * is the message (header and body, checksum verified), with the addresses of the IP packet that
 * carried it. {@link #kind()} says what it is across both families, e.g. {@link Kind#PACKET_TOO_BIG}
 * for ICMPv4 "fragmentation needed" and ICMPv6 "packet too big" alike, whose {@link #mtu()} a VPN
 * needs for path MTU discovery.
 */
public final class IcmpMessage extends DefaultByteBufHolder {

    /** What a message is, the same for both families. */
    public enum Kind {
        ECHO_REQUEST,
        ECHO_REPLY,
        /** Destination unreachable (other than ICMPv4's "fragmentation needed"). */
        DESTINATION_UNREACHABLE,
        /** ICMPv4 destination unreachable code 4, ICMPv6 packet too big: {@link #mtu()} is set. */
        PACKET_TOO_BIG,
        TIME_EXCEEDED,
        /** Any other type (parameter problem, neighbour discovery, router advertisements, ...). */
        OTHER
    }

    private final boolean ipv6;
    private final InetAddress source;
    private final InetAddress destination;

    /** {@code message} is the ICMP message, validated with {@link IcmpHeader}'s check for its family. */
    public IcmpMessage(boolean ipv6, InetAddress source, InetAddress destination, ByteBuf message) {
        super(message);
        this.ipv6 = ipv6;
        this.source = source;
        this.destination = destination;
    }

    /** True for ICMPv6, false for ICMPv4. */
    public boolean isIpv6() {
        return ipv6;
    }

    /** The sender of the message (for an error: the router or host that reports it). */
    public InetAddress source() {
        return source;
    }

    public InetAddress destination() {
        return destination;
    }

    private int at() {
        return content().readerIndex();
    }

    public int type() {
        return IcmpHeader.type(content(), at());
    }

    public int code() {
        return IcmpHeader.code(content(), at());
    }

    public Kind kind() {
        int type = type();
        if (ipv6) {
            switch (type) {
                case Icmpv6Types.ECHO_REQUEST: return Kind.ECHO_REQUEST;
                case Icmpv6Types.ECHO_REPLY: return Kind.ECHO_REPLY;
                case Icmpv6Types.DESTINATION_UNREACHABLE: return Kind.DESTINATION_UNREACHABLE;
                case Icmpv6Types.PACKET_TOO_BIG: return Kind.PACKET_TOO_BIG;
                case Icmpv6Types.TIME_EXCEEDED: return Kind.TIME_EXCEEDED;
                default: return Kind.OTHER;
            }
        }
        switch (type) {
            case Icmpv4Types.ECHO_REQUEST: return Kind.ECHO_REQUEST;
            case Icmpv4Types.ECHO_REPLY: return Kind.ECHO_REPLY;
            case Icmpv4Types.DESTINATION_UNREACHABLE:
                return code() == Icmpv4Types.CODE_FRAGMENTATION_NEEDED ? Kind.PACKET_TOO_BIG : Kind.DESTINATION_UNREACHABLE;
            case Icmpv4Types.TIME_EXCEEDED: return Kind.TIME_EXCEEDED;
            default: return Kind.OTHER;
        }
    }

    /** Echo request/reply: the identifier. */
    public int identifier() {
        return IcmpHeader.identifier(content(), at());
    }

    /** Echo request/reply: the sequence number. */
    public int sequence() {
        return IcmpHeader.sequence(content(), at());
    }

    /** For {@link Kind#PACKET_TOO_BIG}: the MTU the reporter can carry (0 from an old ICMPv4 router); else -1. */
    public long mtu() {
        if (kind() != Kind.PACKET_TOO_BIG) {
            return -1;
        }
        return ipv6 ? IcmpHeader.packetTooBigMtu(content(), at()) : IcmpHeader.nextHopMtu(content(), at());
    }

    /**
     * The body after the 8-byte header: an echo's data, or for an error the start of the packet
     * that caused it. A slice valid while this message is; retain it to keep it.
     */
    public ByteBuf body() {
        return content().slice(at() + IcmpHeader.LENGTH, content().readableBytes() - IcmpHeader.LENGTH);
    }

    @Override
    public IcmpMessage replace(ByteBuf content) {
        return new IcmpMessage(ipv6, source, destination, content);
    }

    @Override
    public IcmpMessage copy() {
        return replace(content().copy());
    }

    @Override
    public IcmpMessage duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public IcmpMessage retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public IcmpMessage retain() {
        super.retain();
        return this;
    }

    @Override
    public IcmpMessage retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public IcmpMessage touch() {
        super.touch();
        return this;
    }

    @Override
    public IcmpMessage touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "IcmpMessage(released)";
        }
        return "IcmpMessage(" + (ipv6 ? "ICMPv6 " : "ICMPv4 ") + source.getHostAddress() + " -> " + destination.getHostAddress()
                + ", " + kind() + ", type " + type() + " code " + code() + ", " + content().readableBytes() + " bytes)";
    }
}
