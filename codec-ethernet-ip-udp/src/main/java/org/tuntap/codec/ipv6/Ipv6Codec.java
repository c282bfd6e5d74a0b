package org.tuntap.codec.ipv6;

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
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.pi.PiPacket;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The IPv6 layer. Put it next to {@code Ipv4Codec} (either side: each passes on what is the
 * other's).
 *
 * <p>Inbound it takes an IPv6 packet as a {@link ByteBuf} whose version nibble is 6 (TUN without
 * PI), the content of a {@link PiPacket} of proto IPv6 (TUN with PI), or the payload of an
 * {@link EthernetFrame} of type IPv6 (TAP), and emits an {@link Ipv6Packet} that takes over the
 * input's buffer (indices moved to exactly the packet, nothing copied or sliced). Invalid
 * packets (see {@link Ipv6Header#check} and {@link Ipv6ExtensionWalker}) are dropped and counted;
 * fragments too ({@link DropReason#FRAGMENT}) unless {@link #setPassFragments}. Everything else
 * passes on untouched.
 *
 * <p>Outbound it turns an {@link Ipv6Datagram} into a {@link ByteBuf} IPv6 packet, the header in
 * front of the segment without copying it; an {@link Ipv6Packet} is sent as it is. Hop limit,
 * traffic class and flow label are settings. With an MTU set ({@link #setMtu}), a packet longer
 * than it leaves as fragments with a fragment header ({@link Ipv6Fragmenter}), each datagram
 * with an identification of its own.
 *
 * <p>Put it below {@code Ipv4Codec} (PI, IPv6, IPv4, UDP): the UDP layer then gets both families
 * and its datagrams to IPv6 recipients reach this layer on the way out. It is transparent to
 * the fused path of the layers around it (see {@link LayerHandler}): IPv4 packets go through it
 * in one step with them, IPv6 ones take the layered path.
 */
public final class Ipv6Codec extends LayerHandler {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(Ipv6Codec.class));
    private final Ipv6Repr header = new Ipv6Repr();
    private Ipv6ExtensionWalker walker = new Ipv6ExtensionWalker();
    private boolean passFragments;
    /** 0: outbound packets are never fragmented. */
    private int mtu;
    /** The fragment identification of the next fragmented datagram: a random start, counting up (RFC 7739). */
    private int nextFragmentIdentification = ThreadLocalRandom.current().nextInt();

    /** Hop limit of outbound packets. Default 64. */
    public Ipv6Codec setHopLimit(int hopLimit) {
        header.hopLimit(hopLimit);
        return this;
    }

    /** Traffic class byte of outbound packets ({@code DSCP << 2 | ECN}). Default 0. */
    public Ipv6Codec setTrafficClass(int trafficClass) {
        header.trafficClass(trafficClass);
        return this;
    }

    /** Flow label of outbound packets. Default 0 (none). */
    public Ipv6Codec setFlowLabel(int flowLabel) {
        header.flowLabel(flowLabel);
        return this;
    }

    /**
     * Limits on inbound extension header chains: at most {@code maxHeaders} headers and
     * {@code maxBytes} bytes of them (defaults {@value Ipv6ExtensionWalker#DEFAULT_MAX_HEADERS}
     * and {@value Ipv6ExtensionWalker#DEFAULT_MAX_BYTES}); longer chains are dropped as
     * {@link DropReason#EXTENSION_LIMIT}.
     */
    public Ipv6Codec setExtensionLimits(int maxHeaders, int maxBytes) {
        this.walker = new Ipv6ExtensionWalker(maxHeaders, maxBytes);
        return this;
    }

    /**
     * Pass fragments on as {@link Ipv6Packet}s (for a reassembly handler above) instead of
     * dropping them as {@link DropReason#FRAGMENT}. Default off. Atomic fragments (offset 0, no
     * more fragments) always pass.
     */
    public Ipv6Codec setPassFragments(boolean passFragments) {
        this.passFragments = passFragments;
        return this;
    }

    /**
     * Fragment outbound packets longer than {@code mtu} bytes (at least
     * {@value Ipv6Fragmenter#MIN_MTU}); 0, the default, sends every packet whole. Off by default
     * for the reason {@code Ipv4Codec.setMtu} gives: the codec cannot know the device's MTU, and
     * Linux takes a packet written to a TUN/TAP device whole whatever its MTU.
     */
    public Ipv6Codec setMtu(int mtu) {
        if (mtu != 0 && mtu < Ipv6Fragmenter.MIN_MTU) {
            throw new IllegalArgumentException("the IPv6 MTU must be at least " + Ipv6Fragmenter.MIN_MTU
                    + " (or 0: no fragmentation): " + mtu);
        }
        this.mtu = mtu;
        return this;
    }

    /** The MTU outbound packets are fragmented to, or 0 when they are not. */
    public int mtu() {
        return mtu;
    }

    /**
     * The fragment header identification of the next datagram this codec fragments (then counting
     * up per datagram). Default: a random number, so that identifications are not predictable
     * across codecs (RFC 7739).
     */
    public Ipv6Codec setNextFragmentIdentification(int identification) {
        this.nextFragmentIdentification = identification;
        return this;
    }

    public Ipv6Codec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    public DropCounters dropCounters() {
        return drops.counters();
    }

    /** Decodes IPv6 packets (as the class comment says); passes everything else on. */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf;
        if (msg instanceof ByteBuf b) {
            if (!b.isReadable() || Ipv6Header.version(b, b.readerIndex()) != 6) {
                ctx.fireChannelRead(msg);
                return;
            }
            buf = b;
        } else if (msg instanceof PiPacket pi && pi.proto() == EtherType.IPV6) {
            buf = pi.content();
        } else if (msg instanceof EthernetFrame frame && frame.etherType() == EtherType.IPV6) {
            buf = frame.content();
        } else {
            ctx.fireChannelRead(msg);
            return;
        }
        Ipv6Packet packet = decode(ctx, msg, buf);
        if (packet != null) {
            ctx.fireChannelRead(packet);
        }
    }

    /**
     * The packet, taking over {@code msg}'s reference to {@code buf}; or null when dropped
     * ({@code msg} released, even when strict mode throws).
     */
    private Ipv6Packet decode(ChannelHandlerContext ctx, Object msg, ByteBuf buf) {
        boolean taken = false;
        try {
            int start = buf.readerIndex();
            int length = buf.readableBytes();
            DropReason problem = Ipv6Header.check(buf, start, length);
            if (problem == null) {
                problem = walker.walk(buf, start);
            }
            if (problem != null) {
                drops.drop(ctx, problem, length + " bytes");
                return null;
            }
            long sourceHigh = Ipv6Header.sourceHigh(buf, start);
            long sourceLow = Ipv6Header.sourceLow(buf, start);
            if (Ipv6Addresses.isMartianSource(sourceHigh, sourceLow, walker.upperLayerProtocol())) {
                drops.drop(ctx, DropReason.MARTIAN, "from " + Ipv6Addresses.toString(sourceHigh, sourceLow));
                return null;
            }
            int fragment = walker.fragmentHeaderOffset();
            if (fragment >= 0 && !passFragments && (Ipv6ExtensionHeader.fragmentOffset(buf, start + fragment) != 0
                    || Ipv6ExtensionHeader.moreFragments(buf, start + fragment))) {
                drops.drop(ctx, DropReason.FRAGMENT, "id " + Ipv6ExtensionHeader.fragmentIdentification(buf, start + fragment));
                return null;
            }
            buf.writerIndex(start + Ipv6Header.LENGTH + Ipv6Header.payloadLength(buf, start)); // padding cut
            Ipv6Packet packet = new Ipv6Packet(buf, walker);
            taken = true;
            return packet;
        } finally {
            if (!taken) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Ipv6Datagram datagram) {
            ByteBuf packet;
            try {
                packet = encode(ctx, datagram);
            } catch (EncoderException e) {
                promise.setFailure(e);
                return;
            } finally {
                datagram.release(); // the packet keeps what it needs of the segment
            }
            writeWithinMtu(ctx, packet, promise);
        } else if (msg instanceof Ipv6Packet packet) {
            writeWithinMtu(ctx, packet.content(), promise); // the holder's reference goes with its content
        } else {
            ctx.write(msg, promise);
        }
    }

    /** Writes the packet whole if it fits the MTU, else its fragments; takes over {@code packet}. */
    private void writeWithinMtu(ChannelHandlerContext ctx, ByteBuf packet, ChannelPromise promise) {
        if (mtu == 0 || packet.readableBytes() <= mtu) {
            ctx.write(packet, promise);
            return;
        }
        List<ByteBuf> fragments;
        try {
            fragments = Ipv6Fragmenter.fragment(ctx.alloc(), packet, mtu, nextFragmentIdentification);
        } catch (EncoderException e) {
            drops.dropOutbound(ctx, DropReason.FRAGMENTATION_NEEDED, e.getMessage());
            promise.tryFailure(e);
            return;
        } catch (Throwable t) {
            promise.tryFailure(new EncoderException(t));
            return;
        } finally {
            packet.release(); // the fragments hold what they need of it
        }
        nextFragmentIdentification++;
        writeAll(ctx, fragments, promise);
    }

    private ByteBuf encode(ChannelHandlerContext ctx, Ipv6Datagram datagram) {
        ByteBuf segment = datagram.content();
        int payloadLength = segment.readableBytes();
        if (payloadLength > Ipv6Header.MAX_PAYLOAD_LENGTH) {
            throw new EncoderException("IPv6 payload of " + payloadLength + " bytes exceeds 65535");
        }
        header.source(datagram.sourceHigh(), datagram.sourceLow())
                .destination(datagram.destinationHigh(), datagram.destinationLow())
                .nextHeader(datagram.nextHeader());
        ByteBuf packet = Headroom.prepend(ctx.alloc(), segment, Ipv6Header.LENGTH);
        header.emit(Headroom.headerBuffer(packet), packet.readerIndex(), payloadLength);
        return packet;
    }

    /**
     * Transparent to the fused path, over IP packets: IPv4 goes through untouched, and IPv6 never
     * takes the fused path (its only top is UDP over the IPv4 layer, which refuses anything but
     * IPv4), so IPv6 comes to this layer's layered path.
     */
    @Override
    protected Bytes fusedTransparentOver() {
        return Bytes.IP_PACKET;
    }
}
