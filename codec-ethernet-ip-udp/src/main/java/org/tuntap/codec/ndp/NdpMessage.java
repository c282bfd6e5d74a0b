package org.tuntap.codec.ndp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.IcmpHeader;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv6.Ipv6Header;

/**
 * A neighbour solicitation or advertisement (RFC 4861 sections 4.3, 4.4), an ICMPv6 message read
 * in place: type 135 or 136, code 0, checksum, 4 bytes (the advertisement's R, S and O flags),
 * the 16-byte target address, then options of 8-byte units ({@code type, length, data}), of which
 * the source link-layer address (1) and target link-layer address (2) matter here. Static
 * accessors take the buffer and the index of the ICMPv6 message; {@link #check} validates one
 * the way RFC 4861 section 7.1 asks before anything else is read. Building one: {@link NdpRepr}.
 */
public final class NdpMessage {

    /** Header and target: the shortest valid message. */
    public static final int MIN_LENGTH = 24;
    /** An Ethernet link-layer address option: type, length 1, 6 bytes of MAC. */
    public static final int LINK_LAYER_OPTION_LENGTH = 8;
    /** Option type: the sender's link-layer address (in solicitations). */
    public static final int SOURCE_LINK_LAYER_ADDRESS = 1;
    /** Option type: the target's link-layer address (in advertisements). */
    public static final int TARGET_LINK_LAYER_ADDRESS = 2;
    /** Advertisement flag: the sender is a router. */
    public static final int FLAG_ROUTER = 0x80;
    /** Advertisement flag: an answer to a solicitation. */
    public static final int FLAG_SOLICITED = 0x40;
    /** Advertisement flag: replace a cached link-layer address. */
    public static final int FLAG_OVERRIDE = 0x20;
    /** The hop limit every neighbour discovery packet carries: one never forwarded by a router has it still. */
    public static final int HOP_LIMIT = 255;

    private NdpMessage() {
    }

    /** Whether an ICMPv6 type is a neighbour solicitation or advertisement. */
    public static boolean isNeighbourMessage(int icmpType) {
        return icmpType == Icmpv6Types.NEIGHBOUR_SOLICITATION || icmpType == Icmpv6Types.NEIGHBOUR_ADVERTISEMENT;
    }

    /**
     * Validates the solicitation or advertisement of {@code length} bytes at {@code index}, carried
     * by the IPv6 packet whose fixed header is at {@code ipv6Index} (RFC 4861 sections 7.1.1 and
     * 7.1.2): hop limit 255, checksum over the pseudo-header, code 0, at least 24 bytes, a
     * unicast target, options of non-zero length within the message, Ethernet-sized link-layer
     * options at most once each; a solicitation from the unspecified address (duplicate address
     * detection) only to a solicited-node address and without a source link-layer address; an
     * advertisement to a multicast address not marked solicited.
     *
     * @return null if valid, else why not ({@link DropReason#TRUNCATED}, {@link DropReason#BAD_CHECKSUM}
     *         or {@link DropReason#BAD_NEIGHBOUR_DISCOVERY})
     */
    public static DropReason check(ByteBuf buf, int ipv6Index, int index, int length) {
        if (length < MIN_LENGTH) {
            return DropReason.TRUNCATED;
        }
        long pseudoHeaderSum = InternetChecksum.pseudoHeaderSumIpv6(
                buf, ipv6Index, Icmpv6Types.NEXT_HEADER, length);
        DropReason problem = IcmpHeader.checkIpv6(buf, index, length, pseudoHeaderSum, true);
        if (problem != null) {
            return problem;
        }
        int type = type(buf, index);
        if (!isNeighbourMessage(type) || Ipv6Header.hopLimit(buf, ipv6Index) != HOP_LIMIT
                || IcmpHeader.code(buf, index) != 0 || Ipv6Multicast.isMulticast(targetHigh(buf, index))) {
            return DropReason.BAD_NEIGHBOUR_DISCOVERY;
        }
        int linkLayerOptions = 0;
        for (int at = index + MIN_LENGTH, end = index + length; at < end; ) {
            if (end - at < 2) {
                return DropReason.BAD_NEIGHBOUR_DISCOVERY;
            }
            int optionType = buf.getUnsignedByte(at);
            int optionLength = buf.getUnsignedByte(at + 1) * 8;
            if (optionLength == 0 || optionLength > end - at) {
                return DropReason.BAD_NEIGHBOUR_DISCOVERY; // length 0 would loop for ever (RFC 4861 4.6)
            }
            if (optionType == SOURCE_LINK_LAYER_ADDRESS || optionType == TARGET_LINK_LAYER_ADDRESS) {
                int bit = 1 << optionType;
                if (optionLength != LINK_LAYER_OPTION_LENGTH || (linkLayerOptions & bit) != 0) {
                    return DropReason.BAD_NEIGHBOUR_DISCOVERY; // not an Ethernet address, or a second one (Linux too)
                }
                linkLayerOptions |= bit;
            }
            at += optionLength;
        }
        long sourceHigh = Ipv6Header.sourceHigh(buf, ipv6Index);
        long sourceLow = Ipv6Header.sourceLow(buf, ipv6Index);
        long destinationHigh = Ipv6Header.destinationHigh(buf, ipv6Index);
        long destinationLow = Ipv6Header.destinationLow(buf, ipv6Index);
        if (Ipv6Multicast.isMulticast(sourceHigh)) {
            return DropReason.BAD_NEIGHBOUR_DISCOVERY;
        }
        if (type == Icmpv6Types.NEIGHBOUR_SOLICITATION && (sourceHigh | sourceLow) == 0
                && (!Ipv6Multicast.isSolicitedNode(destinationHigh, destinationLow)
                || (linkLayerOptions & 1 << SOURCE_LINK_LAYER_ADDRESS) != 0)) {
            return DropReason.BAD_NEIGHBOUR_DISCOVERY;
        }
        if (type == Icmpv6Types.NEIGHBOUR_ADVERTISEMENT && Ipv6Multicast.isMulticast(destinationHigh)
                && (flags(buf, index) & FLAG_SOLICITED) != 0) {
            return DropReason.BAD_NEIGHBOUR_DISCOVERY;
        }
        return null;
    }

    /** {@code Icmpv6Types.NEIGHBOUR_SOLICITATION} or {@code NEIGHBOUR_ADVERTISEMENT}. */
    public static int type(ByteBuf buf, int index) {
        return IcmpHeader.type(buf, index);
    }

    /** The advertisement's flags: {@link #FLAG_ROUTER}, {@link #FLAG_SOLICITED}, {@link #FLAG_OVERRIDE} (0 in a solicitation). */
    public static int flags(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + 4) & 0xE0;
    }

    /** High 64 bits of the target: the address asked for, or the one advertised. */
    public static long targetHigh(ByteBuf buf, int index) {
        return buf.getLong(index + 8);
    }

    /** Low 64 bits of the target. */
    public static long targetLow(ByteBuf buf, int index) {
        return buf.getLong(index + 16);
    }

    /**
     * The MAC in the first option of {@code optionType} ({@link #SOURCE_LINK_LAYER_ADDRESS} or
     * {@link #TARGET_LINK_LAYER_ADDRESS}) of a {@linkplain #check checked} message, as
     * {@link MacAddress#bits()}; -1 when there is none.
     */
    public static long linkLayerAddress(ByteBuf buf, int index, int length, int optionType) {
        for (int at = index + MIN_LENGTH, end = index + length; at + 2 <= end; ) {
            int optionLength = buf.getUnsignedByte(at + 1) * 8;
            if (optionLength == 0) {
                return -1; // unchecked input: never loop
            }
            if (buf.getUnsignedByte(at) == optionType && optionLength == LINK_LAYER_OPTION_LENGTH && at + optionLength <= end) {
                return MacAddress.readBits(buf, at + 2);
            }
            at += optionLength;
        }
        return -1;
    }
}
