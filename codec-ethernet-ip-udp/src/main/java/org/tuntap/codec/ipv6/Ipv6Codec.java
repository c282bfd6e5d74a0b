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
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.pi.PiPacket;

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
 * traffic class and flow label are settings.
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
            ctx.write(packet, promise);
        } else if (msg instanceof Ipv6Packet packet) {
            ctx.write(packet.content(), promise); // the holder's reference goes with its content
        } else {
            ctx.write(msg, promise);
        }
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

    // ---- fused path: transparent to IPv4 ----

    /** Reads IP packets. */
    @Override
    protected Bytes fusedTakes() {
        return Bytes.IP_PACKET;
    }

    /** Passes IPv4 packets up as they are. */
    @Override
    protected Bytes fusedYields() {
        return Bytes.IP_PACKET;
    }

    /** Adds nothing to the IPv4 packets of the fused path. */
    @Override
    protected int fusedHeaderLength() {
        return 0;
    }

    /** IPv4 goes through; IPv6 takes the layered path, where this layer decodes it. */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        return fields.end() > index && Ipv6Header.version(buf, index) == 4 ? index : -1;
    }
}
