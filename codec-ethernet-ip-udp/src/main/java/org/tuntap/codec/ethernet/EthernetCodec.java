package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.pi.PiPacket;

import java.util.List;

/**
 * The Ethernet II layer of a TAP pipeline.
 *
 * <p>Inbound: a frame ({@link ByteBuf} from the channel, or the content of a {@link PiPacket})
 * becomes an {@link EthernetFrame} whose content is a retained slice of the payload. Frames
 * shorter than their header are dropped ({@link DropReason#TRUNCATED}). Frames with one 802.1Q
 * or 802.1ad tag are parsed through the tag; by default they are then dropped
 * ({@link DropReason#VLAN_TAGGED}) since an untagged interface does not expect them;
 * {@link #setAcceptTagged} passes them on with the tag exposed.
 *
 * <p>Outbound: an {@link EthernetFrame} becomes a {@link ByteBuf} with the header in front of
 * the payload (no copy). Anything else passes through untouched (a {@link ByteBuf} written
 * below this layer is a complete frame).
 */
public final class EthernetCodec extends MessageToMessageCodec<Object, EthernetFrame> {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(EthernetCodec.class));
    private boolean acceptTagged;

    public EthernetCodec() {
        super(Object.class, EthernetFrame.class);
    }

    /** Pass VLAN-tagged frames on (tag in {@link EthernetFrame#vlanTci()}) instead of dropping them. */
    public EthernetCodec setAcceptTagged(boolean acceptTagged) {
        this.acceptTagged = acceptTagged;
        return this;
    }

    public EthernetCodec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    public DropCounters dropCounters() {
        return drops.counters();
    }

    @Override
    public boolean acceptInboundMessage(Object msg) {
        return msg instanceof ByteBuf || msg instanceof PiPacket;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        ByteBuf frame = msg instanceof PiPacket pi ? pi.content() : (ByteBuf) msg;
        int start = frame.readerIndex();
        int length = frame.readableBytes();
        int headerLength = EthernetHeader.headerLength(frame, start, length);
        if (headerLength < 0) {
            drops.drop(ctx, DropReason.TRUNCATED, length + " bytes, shorter than an Ethernet header");
            return;
        }
        int tci = EthernetHeader.NO_TAG;
        int etherType = EthernetHeader.outerType(frame, start);
        if (headerLength == EthernetHeader.TAGGED_LENGTH) {
            if (!acceptTagged) {
                drops.drop(ctx, DropReason.VLAN_TAGGED, "VLAN " + (frame.getUnsignedShort(start + 14) & 0x0FFF));
                return;
            }
            tci = frame.getUnsignedShort(start + 14);
            etherType = frame.getUnsignedShort(start + 16);
        }
        out.add(new EthernetFrame(
                EthernetHeader.destination(frame, start),
                EthernetHeader.source(frame, start),
                etherType, tci,
                frame.retainedSlice(start + headerLength, length - headerLength)));
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, EthernetFrame frame, List<Object> out) {
        ByteBuf buf = Headroom.prepend(ctx.alloc(), frame.content(), frame.headerLength());
        int at = buf.readerIndex();
        ByteBuf header = Headroom.headerBuffer(buf);
        if (frame.isTagged()) {
            EthernetHeader.setTagged(header, at, frame.destinationBits(), frame.sourceBits(), frame.vlanTci(), frame.etherType());
        } else {
            EthernetHeader.set(header, at, frame.destinationBits(), frame.sourceBits(), frame.etherType());
        }
        out.add(buf);
    }
}
