package org.tuntap.codec.pi;

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

/**
 * The PI header layer, first after the channel when the device has packet information on.
 *
 * <p>Inbound: each {@link ByteBuf} from the channel becomes a {@link PiPacket} whose content is
 * a retained slice after the header. Packets shorter than the header are dropped
 * ({@link DropReason#TRUNCATED}); packets the kernel cut short ({@code TUN_PKT_STRIP}) are
 * dropped as {@link DropReason#STRIPPED_BY_KERNEL} unless {@link #setPassTruncated} is on.
 *
 * <p>Outbound: a {@link ByteBuf} gets a header with flags 0 and the protocol taken from the
 * packet: on TUN from the IP version nibble, on TAP from the frame's ethertype. A
 * {@link PiPacket} is written with its own flags and protocol. A packet whose protocol cannot
 * be told fails its write with an {@link EncoderException}.
 *
 * <p>Below the other layers it is the bottom of their fused path (see {@link LayerHandler}).
 */
public final class PiCodec extends LayerHandler {

    /** What the device carries, which decides where the outbound protocol is read from. */
    public enum Mode {
        /** IP packets: the outbound protocol comes from the IP version nibble. */
        TUN,
        /** Ethernet frames: the outbound protocol is the frame's ethertype. */
        TAP
    }

    private final Mode mode;
    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(PiCodec.class));
    private boolean passTruncated;

    /** A codec for a device carrying {@code mode}'s packets (see also {@link #forTun()}, {@link #forTap()}). */
    public PiCodec(Mode mode) {
        if (mode == null) {
            throw new NullPointerException("mode");
        }
        this.mode = mode;
    }

    /** For a TUN device (IP packets). */
    public static PiCodec forTun() {
        return new PiCodec(Mode.TUN);
    }

    /** For a TAP device (Ethernet frames). */
    public static PiCodec forTap() {
        return new PiCodec(Mode.TAP);
    }

    /** What the device carries. */
    public Mode mode() {
        return mode;
    }

    /** Pass packets flagged {@code TUN_PKT_STRIP} on (see {@link PiPacket#isTruncated()}) instead of dropping them. */
    public PiCodec setPassTruncated(boolean passTruncated) {
        this.passTruncated = passTruncated;
        return this;
    }

    /** Raise a {@code DecoderException} for every drop (after counting it). */
    public PiCodec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** The packets this layer dropped, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    /** Takes a {@link ByteBuf} apart into a {@link PiPacket}, or drops it (see above); passes anything else on. */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf packet)) {
            ctx.fireChannelRead(msg);
            return;
        }
        decodeAndFire(ctx, packet);
    }

    /** The packet after its PI header, or null when dropped. */
    @Override
    protected PiPacket decode(ChannelHandlerContext ctx, Object msg) {
        ByteBuf packet = (ByteBuf) msg;
        int start = packet.readerIndex();
        int length = packet.readableBytes();
        if (length < PiHeader.LENGTH) {
            drops.drop(ctx, DropReason.TRUNCATED, length + " bytes, shorter than the PI header");
            return null;
        }
        int flags = PiHeader.flags(packet, start);
        if ((flags & PiHeader.TUN_PKT_STRIP) != 0 && !passTruncated) {
            drops.drop(ctx, DropReason.STRIPPED_BY_KERNEL, length + " bytes read, packet was longer");
            return null;
        }
        ByteBuf content = packet.retainedSlice(start + PiHeader.LENGTH, length - PiHeader.LENGTH);
        return new PiPacket(flags, PiHeader.proto(packet, start), content);
    }

    /** Puts a PI header in front of a written {@link ByteBuf} or {@link PiPacket}; passes anything else on. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf || msg instanceof PiPacket) {
            encodeAndWrite(ctx, msg, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /**
     * The packet with its PI header in front (no copy): a {@link PiPacket}'s own fields, else
     * flags 0 and the protocol read from the packet.
     */
    @Override
    protected Object encode(ChannelHandlerContext ctx, Object msg) {
        int flags;
        int proto;
        ByteBuf packet;
        if (msg instanceof PiPacket pi) {
            flags = pi.flags();
            proto = pi.proto();
            packet = pi.content();
        } else {
            packet = (ByteBuf) msg;
            flags = 0;
            proto = protoOf(packet, packet.readerIndex(), packet.readableBytes());
        }
        ByteBuf withHeader = Headroom.prepend(ctx.alloc(), packet, PiHeader.LENGTH);
        PiHeader.set(Headroom.headerBuffer(withHeader), withHeader.readerIndex(), flags, proto);
        return withHeader;
    }

    /** The PI protocol of the packet of {@code length} bytes at {@code index}: from the IP version (TUN) or ethertype (TAP). */
    private int protoOf(ByteBuf packet, int index, int length) {
        return mode == Mode.TUN ? protoOfIpPacket(packet, index, length) : protoOfFrame(packet, index, length);
    }

    private static int protoOfIpPacket(ByteBuf packet, int index, int length) {
        if (length < 1) {
            throw new EncoderException("empty packet written to a TUN device");
        }
        int version = packet.getUnsignedByte(index) >>> 4;
        if (version == 4) {
            return EtherType.IPV4;
        }
        if (version == 6) {
            return EtherType.IPV6;
        }
        throw new EncoderException("not an IP packet (version nibble " + version + "), cannot set the PI protocol");
    }

    private static int protoOfFrame(ByteBuf frame, int index, int length) {
        if (length < 14) {
            throw new EncoderException("frame of " + length + " bytes is shorter than an Ethernet header");
        }
        return frame.getUnsignedShort(index + 12);
    }

    // ---- fused path ----

    /** IP packets on TUN, Ethernet frames on TAP. */
    @Override
    protected Bytes fusedYields() {
        return mode == Mode.TUN ? Bytes.IP_PACKET : Bytes.ETHERNET_FRAME;
    }

    /** The PI header's 4 bytes. */
    @Override
    protected int fusedHeaderLength() {
        return PiHeader.LENGTH;
    }

    /** Refuses packets the kernel cut short and, on TUN, any protocol but IPv4: the layered path handles those. */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        if (fields.end() - index < PiHeader.LENGTH || (PiHeader.flags(buf, index) & PiHeader.TUN_PKT_STRIP) != 0
                || mode == Mode.TUN && PiHeader.proto(buf, index) != EtherType.IPV4) {
            return -1; // the layered path decides what the protocol means
        }
        return index + PiHeader.LENGTH;
    }

    /** Flags 0 and the protocol read from the packet the layers above built, as the layered path does. */
    @Override
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
        int packet = index + PiHeader.LENGTH; // the layers above have written their headers from here
        PiHeader.set(buf, index, 0, protoOf(buf, packet, buf.writerIndex() - packet));
    }
}
