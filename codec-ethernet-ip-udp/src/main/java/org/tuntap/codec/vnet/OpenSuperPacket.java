package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.udp.UdpHeader;

import java.util.ArrayList;
import java.util.List;

/**
 * The USO super-packet a fused stack is writing into, for {@link CoalescingHandler}: its first
 * datagram built whole by the stack's layers (IPv4 and UDP headers, behind the empty virtio-net
 * header, and on TAP behind the Ethernet header), each next datagram of the same flow only its
 * payload appended. {@link #seal} makes
 * the headers those of the whole, as {@link SuperPacket} does for held packets; a super-packet
 * nothing joined stays the ordinary packet its layers built.
 *
 * <p>The rules are {@link CoalescedGroup}'s, for packets the stack builds itself: the same
 * addresses and ports, and on TAP the same MAC addresses (TTL, DSCP and DF are the IPv4 layer's settings, the identification counts
 * up as the kernel numbers the segments), payloads of the first's size but a shorter last one,
 * at most {@link CoalescedGroup#MAX_SEGMENTS} of them and {@link CoalescedGroup#MAX_PACKET_LENGTH}
 * bytes of IP packet. Only an IPv4 packet without options, not a fragment, with a UDP checksum
 * (0 would come back computed) and a payload starts a super-packet others may join.
 */
final class OpenSuperPacket {

    /** Headers the super-packet repeats per segment: IPv4 without options, then UDP. */
    private static final int HEADERS = Ipv4Header.MIN_LENGTH + UdpHeader.LENGTH;

    private final ByteBuf buffer; // the virtio-net header at its reader index, the frame or IPv4 packet behind it
    private final int linkHeaderLength;
    private final int ip;
    private final long sourceMac;
    private final long destinationMac;
    private final boolean mergeable;
    private final int source;
    private final int destination;
    private final int sourcePort;
    private final int destinationPort;
    private final int segmentSize;
    private final ChannelPromise firstPromise;
    private List<ChannelPromise> joinedPromises; // non-void ones only, made at the first
    private int lastPayloadLength;
    private int segments = 1;

    /**
     * Takes over {@code buffer}: the empty header, then the first packet as its layers built it,
     * its IP header {@code linkHeaderLength} bytes in (an Ethernet frame's 14, else 0).
     */
    OpenSuperPacket(FusedFields fields, ByteBuf buffer, int linkHeaderLength, ChannelPromise promise) {
        this.buffer = buffer;
        this.linkHeaderLength = linkHeaderLength;
        this.ip = buffer.readerIndex() + VirtioNetHeader.LENGTH + linkHeaderLength;
        this.sourceMac = fields.sourceMac();
        this.destinationMac = fields.destinationMac();
        this.firstPromise = promise;
        this.source = fields.source();
        this.destination = fields.destination();
        this.sourcePort = fields.sourcePort();
        this.destinationPort = fields.destinationPort();
        this.segmentSize = buffer.writerIndex() - ip - HEADERS;
        this.lastPayloadLength = segmentSize;
        this.mergeable = fields.protocol() == Ipv4Header.PROTOCOL_UDP && segmentSize > 0
                && (linkHeaderLength == 0 || fields.etherType() == EtherType.IPV4)
                && Ipv4Header.version(buffer, ip) == 4 && Ipv4Header.headerLength(buffer, ip) == Ipv4Header.MIN_LENGTH
                && !Ipv4Header.isFragment(buffer, ip) && UdpHeader.checksumField(buffer, ip + Ipv4Header.MIN_LENGTH) != 0;
    }

    /** Segments so far (1 until a datagram joins). */
    int segments() {
        return segments;
    }

    /**
     * Appends {@code payload}'s readable bytes when the datagram {@code fields} describe may join;
     * false, nothing changed, when it may not.
     */
    boolean join(FusedFields fields, ByteBuf payload, ChannelPromise promise) {
        int length = payload.readableBytes();
        if (!mergeable || segments >= CoalescedGroup.MAX_SEGMENTS || lastPayloadLength != segmentSize
                || length == 0 || length > segmentSize
                || buffer.writerIndex() - ip + length > CoalescedGroup.MAX_PACKET_LENGTH
                || fields.protocol() != Ipv4Header.PROTOCOL_UDP
                || fields.source() != source || fields.destination() != destination
                || fields.sourcePort() != sourcePort || fields.destinationPort() != destinationPort
                || linkHeaderLength > 0 && !sameLinkHeader(fields)) {
            return false;
        }
        buffer.writeBytes(payload, payload.readerIndex(), length);
        lastPayloadLength = length;
        segments++;
        if (!promise.isVoid()) {
            if (joinedPromises == null) {
                joinedPromises = new ArrayList<>();
            }
            joinedPromises.add(promise);
        }
        return true;
    }

    /** Every segment gets the first one's Ethernet header: a datagram for other MACs may not join. */
    private boolean sameLinkHeader(FusedFields fields) {
        return fields.sourceMac() == sourceMac && fields.destinationMac() == destinationMac
                && fields.etherType() == EtherType.IPV4;
    }

    /**
     * The finished buffer (given back: the caller writes it): with two segments or more, the
     * virtio-net header for {@code GSO_UDP_L4} with a partial checksum, the IPv4 total length and
     * header checksum and the UDP length of the whole, and in the UDP checksum field the
     * pseudo-header sum over the whole UDP length, folded and not inverted.
     */
    ByteBuf seal() {
        if (segments > 1) {
            int length = buffer.writerIndex() - ip;
            int udp = ip + Ipv4Header.MIN_LENGTH;
            int udpLength = length - Ipv4Header.MIN_LENGTH;
            Ipv4Header.setTotalLength(buffer, ip, length);
            Ipv4Header.updateChecksum(buffer, ip);
            UdpHeader.setLength(buffer, udp, udpLength);
            UdpHeader.setChecksumField(buffer, udp, InternetChecksum.fold(
                    InternetChecksum.pseudoHeaderSum(source, destination, Ipv4Header.PROTOCOL_UDP, udpLength)));
            VirtioNetHeader.set(buffer, buffer.readerIndex(), VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_UDP_L4,
                    linkHeaderLength + HEADERS, segmentSize, linkHeaderLength + Ipv4Header.MIN_LENGTH,
                    UdpHeader.CHECKSUM_OFFSET); // hdr_len and csum_start count from the frame's start
        }
        return buffer;
    }

    /** Every promise of the datagrams in it, the void ones left out. */
    List<ChannelPromise> promises() {
        List<ChannelPromise> all = new ArrayList<>(1 + (joinedPromises == null ? 0 : joinedPromises.size()));
        if (!firstPromise.isVoid()) {
            all.add(firstPromise);
        }
        if (joinedPromises != null) {
            all.addAll(joinedPromises);
        }
        return all;
    }

    /** The first datagram's promise (the one to write with when nothing else waits). */
    ChannelPromise firstPromise() {
        return firstPromise;
    }

    /** Releases the buffer and fails every promise (the channel closed before the flush). */
    void fail(Throwable cause) {
        buffer.release();
        for (ChannelPromise promise : promises()) {
            promise.tryFailure(cause);
        }
    }
}
