package org.tuntap.codec.ndp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.IcmpHeader;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Repr;

/**
 * What a neighbour solicitation or advertisement should say, for building one (the layout is
 * {@link NdpMessage}'s): type, flags, target, and at most one Ethernet link-layer address
 * option. {@link #emitPacket} writes it as a whole IPv6 packet, hop limit 255, checksum over the
 * pseudo-header. Mutable and reusable.
 */
public final class NdpRepr {

    private final Ipv6Repr ip = new Ipv6Repr().hopLimit(NdpMessage.HOP_LIMIT).nextHeader(Icmpv6Types.NEXT_HEADER);
    private int type = Icmpv6Types.NEIGHBOUR_SOLICITATION;
    private int flags;
    private long targetHigh;
    private long targetLow;
    private int optionType;
    private long optionMac;

    /** A solicitation for {@code target}, carrying our MAC as the source link-layer address (none when -1, as in duplicate address detection). */
    public NdpRepr solicitation(long targetHigh, long targetLow, long sourceMac) {
        return set(Icmpv6Types.NEIGHBOUR_SOLICITATION, 0, targetHigh, targetLow,
                NdpMessage.SOURCE_LINK_LAYER_ADDRESS, sourceMac);
    }

    /** An advertisement of {@code target} at {@code targetMac}, with these {@code NdpMessage.FLAG_*} flags. */
    public NdpRepr advertisement(long targetHigh, long targetLow, long targetMac, int flags) {
        if ((flags & ~(NdpMessage.FLAG_ROUTER | NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE)) != 0) {
            throw new IllegalArgumentException("unknown advertisement flags: 0x" + Integer.toHexString(flags));
        }
        return set(Icmpv6Types.NEIGHBOUR_ADVERTISEMENT, flags, targetHigh, targetLow,
                NdpMessage.TARGET_LINK_LAYER_ADDRESS, targetMac);
    }

    private NdpRepr set(int type, int flags, long targetHigh, long targetLow, int optionType, long mac) {
        this.type = type;
        this.flags = flags;
        this.targetHigh = targetHigh;
        this.targetLow = targetLow;
        this.optionType = mac < 0 ? 0 : optionType;
        this.optionMac = mac;
        return this;
    }

    /** The IPv6 addresses of the packet: source (ours, or unspecified for duplicate address detection) and destination. */
    public NdpRepr addresses(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
        ip.source(sourceHigh, sourceLow).destination(destinationHigh, destinationLow);
        return this;
    }

    /** Bytes of the ICMPv6 message: 24, and 8 more with a link-layer option. */
    public int messageLength() {
        return NdpMessage.MIN_LENGTH + (optionType == 0 ? 0 : NdpMessage.LINK_LAYER_OPTION_LENGTH);
    }

    /** Bytes of the whole IPv6 packet. */
    public int packetLength() {
        return Ipv6Header.LENGTH + messageLength();
    }

    /** Appends the IPv6 packet ({@link #packetLength()} bytes) to {@code out}. */
    public void emitPacket(ByteBuf out) {
        int length = messageLength();
        out.ensureWritable(Ipv6Header.LENGTH + length);
        int at = out.writerIndex();
        ip.emit(out, at, length);
        int message = at + Ipv6Header.LENGTH;
        out.setByte(message, type);
        out.setByte(message + 1, 0);
        out.setShort(message + 2, 0);
        out.setInt(message + 4, flags << 24);
        out.setLong(message + 8, targetHigh);
        out.setLong(message + 16, targetLow);
        if (optionType != 0) {
            out.setByte(message + 24, optionType);
            out.setByte(message + 25, 1);
            MacAddress.writeBits(out, message + 26, optionMac);
        }
        IcmpHeader.setChecksum(out, message, length, InternetChecksum.pseudoHeaderSumIpv6(
                ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(), Icmpv6Types.NEXT_HEADER, length));
        out.writerIndex(at + Ipv6Header.LENGTH + length);
    }
}
