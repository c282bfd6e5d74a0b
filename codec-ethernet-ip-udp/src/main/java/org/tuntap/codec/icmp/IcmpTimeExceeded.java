package org.tuntap.codec.icmp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.tuntap.codec.ipv4.Ipv4Datagram;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Datagram;
import org.tuntap.codec.ipv6.Ipv6ExtensionWalker;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.checksum.InternetChecksum;

/**
 * "Time exceeded, fragment reassembly time exceeded" (ICMPv4 type 11 code 1, RFC 792; ICMPv6
 * type 3 code 1, RFC 4443 and RFC 8200 section 4.5), built as a reply to the first fragment of a
 * datagram that did not complete in time: from the address the datagram was sent to, back to its
 * source, quoting the fragment (ICMPv4: as much as fits in 576 bytes, as Linux does; ICMPv6: as
 * much as fits in the minimum MTU, 1280). Returned as an {@link Ipv4Datagram} or
 * {@link Ipv6Datagram} for the IP codecs below to send.
 *
 * <p>None is made where the RFCs forbid an error (RFC 1122 section 3.2.2, RFC 4443 section
 * 2.4 e): for a datagram sent to a multicast or broadcast address, or one that is itself an ICMP
 * error message.
 */
public final class IcmpTimeExceeded {

    /** The code of both families' "fragment reassembly time exceeded". */
    public static final int CODE_REASSEMBLY = 1;
    /** The largest ICMPv4 error message, IP header included (RFC 1812 section 4.3.2.3; Linux's limit). */
    static final int MAX_IPV4_LENGTH = 576;
    /** The largest ICMPv6 error message, IPv6 header included: the minimum MTU (RFC 4443 section 2.4 c). */
    static final int MAX_IPV6_LENGTH = 1280;

    private IcmpTimeExceeded() {
    }

    /**
     * The message for the IPv4 first fragment in {@code fragment}'s readable bytes (from its IP
     * header); null when none may be sent. {@code fragment} is not changed nor released.
     */
    public static Ipv4Datagram forIpv4(ByteBufAllocator alloc, ByteBuf fragment) {
        int start = fragment.readerIndex();
        int source = Ipv4Header.source(fragment, start);
        int destination = Ipv4Header.destination(fragment, start);
        int headerLength = Ipv4Header.headerLength(fragment, start);
        if ((destination >>> 28) == 0xE || destination == 0xFFFF_FFFF
                || isIcmpError(fragment, start, headerLength, Icmpv4Types.PROTOCOL, Ipv4Header.protocol(fragment, start), false)) {
            return null;
        }
        int quoted = Math.min(fragment.readableBytes(), MAX_IPV4_LENGTH - Ipv4Header.MIN_LENGTH - IcmpHeader.LENGTH);
        ByteBuf message = message(alloc, Icmpv4Types.TIME_EXCEEDED, fragment, quoted);
        IcmpHeader.setChecksum(message, 0, message.readableBytes(), 0);
        return new Ipv4Datagram(destination, source, Icmpv4Types.PROTOCOL, message);
    }

    /**
     * The message for the IPv6 first fragment in {@code fragment}'s readable bytes (from its IPv6
     * header); null when none may be sent. {@code fragment} is not changed nor released.
     */
    public static Ipv6Datagram forIpv6(ByteBufAllocator alloc, ByteBuf fragment) {
        int start = fragment.readerIndex();
        long sourceHigh = Ipv6Header.sourceHigh(fragment, start);
        long sourceLow = Ipv6Header.sourceLow(fragment, start);
        long destinationHigh = Ipv6Header.destinationHigh(fragment, start);
        long destinationLow = Ipv6Header.destinationLow(fragment, start);
        if ((destinationHigh >>> 56) == 0xFF) {
            return null; // multicast
        }
        Ipv6ExtensionWalker walker = new Ipv6ExtensionWalker();
        if (walker.walk(fragment, start) == null && isIcmpError(fragment, start, walker.upperLayerOffset(),
                Icmpv6Types.NEXT_HEADER, walker.upperLayerProtocol(), true)) {
            return null;
        }
        int quoted = Math.min(fragment.readableBytes(), MAX_IPV6_LENGTH - Ipv6Header.LENGTH - IcmpHeader.LENGTH);
        ByteBuf message = message(alloc, Icmpv6Types.TIME_EXCEEDED, fragment, quoted);
        int length = message.readableBytes();
        IcmpHeader.setChecksum(message, 0, length, InternetChecksum.pseudoHeaderSumIpv6(destinationHigh, destinationLow,
                sourceHigh, sourceLow, Icmpv6Types.NEXT_HEADER, length));
        return new Ipv6Datagram(destinationHigh, destinationLow, sourceHigh, sourceLow, Icmpv6Types.NEXT_HEADER, message);
    }

    /** Type, code 1, a zero checksum and 4 unused bytes, then the first {@code quoted} bytes of the fragment. */
    private static ByteBuf message(ByteBufAllocator alloc, int type, ByteBuf fragment, int quoted) {
        ByteBuf message = alloc.buffer(IcmpHeader.LENGTH + quoted);
        message.writeByte(type).writeByte(CODE_REASSEMBLY).writeShort(0).writeInt(0);
        message.writeBytes(fragment, fragment.readerIndex(), quoted);
        return message;
    }

    /** Whether the fragment carries an ICMP error message (whose type byte is at {@code start + offset}). */
    private static boolean isIcmpError(ByteBuf fragment, int start, int offset, int icmpProtocol, int protocol, boolean ipv6) {
        if (protocol != icmpProtocol || offset >= fragment.readableBytes()) {
            return false;
        }
        int type = fragment.getUnsignedByte(start + offset);
        return ipv6 ? type < 128 // RFC 4443: error messages are types 0 to 127
                : type == Icmpv4Types.DESTINATION_UNREACHABLE || type == 4 || type == 5
                || type == Icmpv4Types.TIME_EXCEEDED || type == 12; // source quench, redirect, parameter problem
    }
}
