package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.pi.PiPacket;

import java.util.List;

/**
 * The IPv4 layer.
 *
 * <p>Inbound it takes an IP packet as a {@link ByteBuf} (TUN without PI), the content of a
 * {@link PiPacket} (TUN with PI), or the payload of an {@link EthernetFrame} of type IPv4 or
 * IPv6 (TAP), and emits an {@link Ipv4Packet} holding a retained slice of exactly the packet.
 * Invalid packets (see {@link Ipv4Header#check}), fragments and packets from martian sources
 * ({@link Ipv4Addresses#isMartianSource}) are dropped and counted. IPv6 packets (by ethertype,
 * PI protocol, or else version nibble) are passed on untouched or dropped, per
 * {@link #setIpv6Handling}; other frames pass.
 *
 * <p>Outbound it turns an {@link Ipv4Datagram} into a {@link ByteBuf} IPv4 packet, the header
 * in front of the segment without copying it; an {@link Ipv4Packet} is sent as it is. The
 * identification counts up per packet; TTL, DSCP and DF are settings. With an MTU set
 * ({@link #setMtu}), a packet longer than it leaves as fragments ({@link Ipv4Fragmenter}), or,
 * with DF set, is refused: its write fails with a {@link FragmentationNeededException} and is
 * counted as {@link DropReason#FRAGMENTATION_NEEDED}.
 *
 * <p>Next to the other layers it is part of their fused path (see {@link LayerHandler}).
 */
public final class Ipv4Codec extends LayerHandler {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(Ipv4Codec.class));
    private final Ipv4Repr header = new Ipv4Repr();
    /** The fused decode's view of the packet being read (event loop only). */
    private final Ipv4FixedHeader fixedHeader = new Ipv4FixedHeader();
    private ChecksumPolicy checksums = ChecksumPolicy.BOTH;
    private Ipv6Handling ipv6 = Ipv6Handling.PASS;
    private int nextIdentification;
    private boolean passFragments;
    /** 0: outbound packets are never fragmented. */
    private int mtu;

    /**
     * A codec with its setters' defaults: checksums both ways, IPv6 passed on, TTL 64, DSCP 0,
     * DF off, identification from 0, drops counted quietly.
     */
    public Ipv4Codec() {
    }

    /** Whether to verify inbound header checksums and compute outbound ones. Default both. */
    public Ipv4Codec setChecksumPolicy(ChecksumPolicy checksums) {
        if (checksums == null) {
            throw new NullPointerException("checksums");
        }
        this.checksums = checksums;
        return this;
    }

    /** Default {@link Ipv6Handling#PASS}. */
    public Ipv4Codec setIpv6Handling(Ipv6Handling ipv6) {
        if (ipv6 == null) {
            throw new NullPointerException("ipv6");
        }
        this.ipv6 = ipv6;
        return this;
    }

    /** TTL of outbound packets. Default 64. */
    public Ipv4Codec setTtl(int ttl) {
        header.ttl(ttl);
        return this;
    }

    /** DSCP of outbound packets. Default 0. */
    public Ipv4Codec setDscp(int dscp) {
        header.dscp(dscp);
        return this;
    }

    /** Set the don't-fragment flag on outbound packets. Default off. */
    public Ipv4Codec setDontFragment(boolean dontFragment) {
        header.dontFragment(dontFragment);
        return this;
    }

    /** The identification of the next outbound packet (then counting up, modulo 2^16). Default 0. */
    public Ipv4Codec setNextIdentification(int identification) {
        this.nextIdentification = identification & 0xFFFF;
        return this;
    }

    /**
     * Pass fragments on as {@link Ipv4Packet}s (for an {@code Ipv4ReassemblyHandler} right after
     * this layer) instead of dropping them as {@link DropReason#FRAGMENT}. Default off.
     */
    public Ipv4Codec setPassFragments(boolean passFragments) {
        this.passFragments = passFragments;
        return this;
    }

    /**
     * Fragment outbound packets longer than {@code mtu} bytes (at least
     * {@value Ipv4Fragmenter#MIN_MTU}), or refuse them when DF is set; 0, the default, sends
     * every packet whole. Off by default because the codec cannot know the device's MTU and Linux
     * takes a packet written to a TUN/TAP device whole whatever its MTU: set it when the packets
     * must fit a link (the device's MTU on a path that forwards them, a VPN's tunnel MTU).
     * Packets within the MTU keep the fused path.
     */
    public Ipv4Codec setMtu(int mtu) {
        if (mtu != 0 && mtu < Ipv4Fragmenter.MIN_MTU) {
            throw new IllegalArgumentException("the IPv4 MTU must be at least " + Ipv4Fragmenter.MIN_MTU
                    + " (or 0: no fragmentation): " + mtu);
        }
        this.mtu = mtu;
        return this;
    }

    /** The MTU outbound packets are fragmented to, or 0 when they are not. */
    public int mtu() {
        return mtu;
    }

    /** Raise a {@code DecoderException} for every inbound drop (after counting it). Default off. */
    public Ipv4Codec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** The packets this layer dropped, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    private static boolean isIpMessage(Object msg) {
        if (msg instanceof EthernetFrame frame) {
            return frame.etherType() == EtherType.IPV4 || frame.etherType() == EtherType.IPV6;
        }
        return msg instanceof ByteBuf || msg instanceof PiPacket;
    }

    /**
     * Decodes IPv4 packets into {@link Ipv4Packet}s or drops them, passes on or drops IPv6 per
     * {@link #setIpv6Handling}, passes anything else on.
     */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!isIpMessage(msg)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf buf = msg instanceof ByteBuf b ? b : ((io.netty.buffer.ByteBufHolder) msg).content();
        int start = buf.readerIndex();
        int length = buf.readableBytes();
        if (isIpv6(msg, buf, start, length)) {
            if (ipv6 == Ipv6Handling.PASS) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
                drops.drop(ctx, DropReason.IPV6, length + " bytes");
            }
            return;
        }
        decodeAndFire(ctx, msg);
    }

    /** The IPv4 packet in {@code msg} (a {@link ByteBuf} or a holder's content), validated, or null when dropped. */
    @Override
    protected Ipv4Packet decode(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = msg instanceof ByteBuf b ? b : ((io.netty.buffer.ByteBufHolder) msg).content();
        return decode(ctx, buf, buf.readerIndex(), buf.readableBytes());
    }

    /**
     * The family is the link's word where it has one, as in the kernel: the ethertype of a frame,
     * the PI protocol of a packet; else the version nibble. An IPv4-labelled packet whose nibble
     * says otherwise is then dropped as {@link DropReason#BAD_VERSION}, never taken for IPv6.
     */
    private static boolean isIpv6(Object msg, ByteBuf buf, int start, int length) {
        if (msg instanceof EthernetFrame frame) {
            return frame.etherType() == EtherType.IPV6;
        }
        if (msg instanceof PiPacket pi && (pi.proto() == EtherType.IPV4 || pi.proto() == EtherType.IPV6)) {
            return pi.proto() == EtherType.IPV6;
        }
        return length > 0 && Ipv4Header.version(buf, start) == 6;
    }

    private Ipv4Packet decode(ChannelHandlerContext ctx, ByteBuf buf, int start, int length) {
        DropReason problem = Ipv4Header.check(buf, start, length, checksums.verify());
        if (problem != null) {
            drops.drop(ctx, problem, length + " bytes");
            return null;
        }
        int source = Ipv4Header.source(buf, start);
        if (Ipv4Addresses.isMartianSource(source, Ipv4Header.destination(buf, start))) {
            drops.drop(ctx, DropReason.MARTIAN, "from " + Ipv4Addresses.toString(source));
            return null;
        }
        if (Ipv4Header.isFragment(buf, start) && !passFragments) {
            drops.drop(ctx, DropReason.FRAGMENT, "id " + Ipv4Header.identification(buf, start));
            return null;
        }
        return new Ipv4Packet(buf.retainedSlice(start, Ipv4Header.totalLength(buf, start)));
    }

    /** Encodes {@link Ipv4Datagram}s, sends {@link Ipv4Packet}s as they are; passes anything else on. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Ipv4Datagram || msg instanceof Ipv4Packet) {
            if (mtu == 0) {
                encodeAndWrite(ctx, msg, promise);
            } else {
                encodeAndFragment(ctx, msg, promise);
            }
        } else {
            ctx.write(msg, promise);
        }
    }

    /** {@link #encode}, then the packet whole if it fits the MTU, else its fragments (or, with DF, a failure). */
    private void encodeAndFragment(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ByteBuf packet = (ByteBuf) encodeOrFail(ctx, msg, promise);
        if (packet == null) {
            return;
        }
        int length = packet.readableBytes();
        if (length <= mtu) {
            ctx.write(packet, promise);
            return;
        }
        List<ByteBuf> fragments;
        try {
            if (Ipv4Header.dontFragment(packet, packet.readerIndex())) {
                drops.dropOutbound(ctx, DropReason.FRAGMENTATION_NEEDED, length + " bytes, MTU " + mtu);
                promise.tryFailure(new FragmentationNeededException(length, mtu));
                return;
            }
            fragments = Ipv4Fragmenter.fragment(ctx.alloc(), packet, mtu, checksums.compute());
        } catch (Throwable t) {
            failEncoding(promise, t);
            return;
        } finally {
            packet.release(); // the fragments hold what they need of it
        }
        writeAll(ctx, fragments, promise);
    }

    /**
     * Why a write failed: the IPv4 packet is longer than the codec's MTU and has DF (don't
     * fragment) set, so it may be neither fragmented nor sent (a socket would say EMSGSIZE).
     */
    public static final class FragmentationNeededException extends EncoderException {
        private static final long serialVersionUID = 1L;
        private final int packetLength;
        private final int mtu;

        FragmentationNeededException(int packetLength, int mtu) {
            super("IPv4 packet of " + packetLength + " bytes exceeds the MTU of " + mtu
                    + " and has DF (don't fragment) set: not sent");
            this.packetLength = packetLength;
            this.mtu = mtu;
        }

        /** The refused packet's length, header included. */
        public int packetLength() {
            return packetLength;
        }

        /** The MTU it exceeded. */
        public int mtu() {
            return mtu;
        }
    }

    /**
     * An {@link Ipv4Packet}'s content as it is, or the datagram's segment with a header in front
     * (no copy); over 65535 bytes it fails.
     */
    @Override
    protected ByteBuf encode(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Ipv4Packet packet) {
            return packet.content().retain();
        }
        Ipv4Datagram datagram = (Ipv4Datagram) msg;
        ByteBuf segment = datagram.content();
        int payloadLength = segment.readableBytes();
        if (header.headerLength() + payloadLength > Ipv4Header.MAX_TOTAL_LENGTH) {
            throw new EncoderException("IPv4 packet of " + (header.headerLength() + payloadLength) + " bytes exceeds 65535");
        }
        header.source(datagram.source())
                .destination(datagram.destination())
                .protocol(datagram.protocol())
                .identification(nextIdentification);
        nextIdentification = (nextIdentification + 1) & 0xFFFF;
        ByteBuf packet = Headroom.prepend(ctx.alloc(), segment, header.headerLength());
        header.emit(Headroom.headerBuffer(packet), packet.readerIndex(), payloadLength, checksums.compute());
        return packet;
    }

    // ---- fused path ----

    /** IP packets. */
    @Override
    protected Bytes fusedTakes() {
        return Bytes.IP_PACKET;
    }

    /** What follows the IPv4 header. */
    @Override
    protected Bytes fusedYields() {
        return Bytes.IPV4_PAYLOAD;
    }

    /** The header it builds: 20 bytes, no options. */
    @Override
    protected int fusedHeaderLength() {
        return header.headerLength();
    }

    /**
     * Accepts what the layered path would pass as an {@link Ipv4Packet} (valid, unfragmented IPv4
     * from a source that is not martian), recording addresses and protocol and cutting link padding
     * off {@code fields.end()}.
     */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        int length = fields.end() - index;
        if (length < Ipv4Header.MIN_LENGTH) {
            return -1;
        }
        Ipv4FixedHeader header = fixedHeader.load(buf, index); // every field from three reads
        if (header.hasOptions() || header.check(length, checksums.verify()) != null || header.isFragment()) {
            return -1; // options are rare: the layered path checks them
        }
        int source = header.source();
        int destination = header.destination();
        if (Ipv4Addresses.isMartianSource(source, destination)) {
            return -1;
        }
        fields.end(index + header.totalLength()); // link-layer padding is not ours
        fields.source(source);
        fields.destination(destination);
        fields.protocol(header.protocol());
        return index + Ipv4Header.MIN_LENGTH;
    }

    /** Packets longer than the MTU take the layered path, where they are fragmented (or refused). */
    @Override
    protected boolean fusedRoute(FusedFields fields) {
        return mtu == 0 || header.headerLength() + fields.transportLength() <= mtu;
    }

    /**
     * Builds the header from the fields and this codec's settings; the identification counts up as
     * on the layered path.
     */
    @Override
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
        header.source(fields.source())
                .destination(fields.destination())
                .protocol(fields.protocol())
                .identification(nextIdentification);
        nextIdentification = (nextIdentification + 1) & 0xFFFF;
        header.emit(buf, index, fields.transportLength(), checksums.compute());
    }

    /** The kernel numbers a super-packet's segments from the first one's identification up: count them too. */
    @Override
    protected void fusedJoined(FusedFields fields) {
        nextIdentification = (nextIdentification + 1) & 0xFFFF;
    }
}
