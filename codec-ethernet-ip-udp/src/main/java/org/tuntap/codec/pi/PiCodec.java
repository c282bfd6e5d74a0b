package org.tuntap.codec.pi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.buffer.Headroom;

import java.util.List;

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
 */
public final class PiCodec extends MessageToMessageCodec<ByteBuf, Object> {

    /** What the device carries, which decides where the outbound protocol is read from. */
    public enum Mode { TUN, TAP }

    private final Mode mode;
    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(PiCodec.class));
    private boolean passTruncated;

    public PiCodec(Mode mode) {
        super(ByteBuf.class, Object.class);
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

    public DropCounters dropCounters() {
        return drops.counters();
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof ByteBuf || msg instanceof PiPacket;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf packet, List<Object> out) {
        int start = packet.readerIndex();
        int length = packet.readableBytes();
        if (length < PiHeader.LENGTH) {
            drops.drop(ctx, DropReason.TRUNCATED, length + " bytes, shorter than the PI header");
            return;
        }
        int flags = PiHeader.flags(packet, start);
        if ((flags & PiHeader.TUN_PKT_STRIP) != 0 && !passTruncated) {
            drops.drop(ctx, DropReason.STRIPPED_BY_KERNEL, length + " bytes read, packet was longer");
            return;
        }
        ByteBuf content = packet.retainedSlice(start + PiHeader.LENGTH, length - PiHeader.LENGTH);
        out.add(new PiPacket(flags, PiHeader.proto(packet, start), content));
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
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
            proto = mode == Mode.TUN ? protoOfIpPacket(packet) : protoOfFrame(packet);
        }
        ByteBuf withHeader = Headroom.prepend(ctx.alloc(), packet, PiHeader.LENGTH);
        PiHeader.set(Headroom.headerBuffer(withHeader), withHeader.readerIndex(), flags, proto);
        out.add(withHeader);
    }

    private static int protoOfIpPacket(ByteBuf packet) {
        if (!packet.isReadable()) {
            throw new EncoderException("empty packet written to a TUN device");
        }
        int version = packet.getUnsignedByte(packet.readerIndex()) >>> 4;
        if (version == 4) {
            return EtherType.IPV4;
        }
        if (version == 6) {
            return EtherType.IPV6;
        }
        throw new EncoderException("not an IP packet (version nibble " + version + "), cannot set the PI protocol");
    }

    private static int protoOfFrame(ByteBuf frame) {
        if (frame.readableBytes() < 14) {
            throw new EncoderException("frame of " + frame.readableBytes() + " bytes is shorter than an Ethernet header");
        }
        return frame.getUnsignedShort(frame.readerIndex() + 12);
    }
}
