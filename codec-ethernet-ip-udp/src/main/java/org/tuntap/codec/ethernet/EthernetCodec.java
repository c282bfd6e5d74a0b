package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.buffer.Headroom;
import org.tuntap.codec.pi.PiPacket;

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
 *
 * <p>Between PI and ARP it is part of their fused path (see {@link LayerHandler}).
 */
public final class EthernetCodec extends LayerHandler {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(EthernetCodec.class));
    private boolean acceptTagged;

    /** A codec that drops VLAN-tagged frames and counts drops quietly. */
    public EthernetCodec() {
    }

    /** Pass VLAN-tagged frames on (tag in {@link EthernetFrame#vlanTci()}) instead of dropping them. */
    public EthernetCodec setAcceptTagged(boolean acceptTagged) {
        this.acceptTagged = acceptTagged;
        return this;
    }

    /** Raise a {@code DecoderException} for every inbound drop (after counting it). Default off. */
    public EthernetCodec setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** The packets this layer dropped, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    /**
     * Decodes a frame ({@link ByteBuf} or {@link PiPacket} content) into an {@link EthernetFrame},
     * or drops it; passes anything else on.
     */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf || msg instanceof PiPacket)) {
            ctx.fireChannelRead(msg);
            return;
        }
        decodeAndFire(ctx, msg);
    }

    /** The frame (a {@link ByteBuf} or a {@link PiPacket}'s content) taken apart, or null when dropped. */
    @Override
    protected EthernetFrame decode(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = msg instanceof PiPacket pi ? pi.content() : (ByteBuf) msg;
        int start = frame.readerIndex();
        int length = frame.readableBytes();
        int headerLength = EthernetHeader.headerLength(frame, start, length);
        if (headerLength < 0) {
            drops.drop(ctx, DropReason.TRUNCATED, length + " bytes, shorter than an Ethernet header");
            return null;
        }
        int tci = EthernetHeader.NO_TAG;
        int etherType = EthernetHeader.outerType(frame, start);
        if (headerLength == EthernetHeader.TAGGED_LENGTH) {
            if (!acceptTagged) {
                drops.drop(ctx, DropReason.VLAN_TAGGED, "VLAN " + (frame.getUnsignedShort(start + 14) & 0x0FFF));
                return null;
            }
            tci = frame.getUnsignedShort(start + 14);
            etherType = frame.getUnsignedShort(start + 16);
        }
        return new EthernetFrame(
                EthernetHeader.destination(frame, start),
                EthernetHeader.source(frame, start),
                etherType, tci,
                frame.retainedSlice(start + headerLength, length - headerLength));
    }

    /** Encodes {@link EthernetFrame}s; passes anything else on. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof EthernetFrame) {
            encodeAndWrite(ctx, msg, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /** The frame's payload with its header in front, tagged when the frame is (no copy). */
    @Override
    protected ByteBuf encode(ChannelHandlerContext ctx, Object msg) {
        EthernetFrame frame = (EthernetFrame) msg;
        ByteBuf buf = Headroom.prepend(ctx.alloc(), frame.content(), frame.headerLength());
        int at = buf.readerIndex();
        ByteBuf header = Headroom.headerBuffer(buf);
        if (frame.isTagged()) {
            EthernetHeader.setTagged(header, at, frame.destinationBits(), frame.sourceBits(), frame.vlanTci(), frame.etherType());
        } else {
            EthernetHeader.set(header, at, frame.destinationBits(), frame.sourceBits(), frame.etherType());
        }
        return buf;
    }

    // ---- fused path: untagged frames only ----

    /** Ethernet frames. */
    @Override
    protected Bytes fusedTakes() {
        return Bytes.ETHERNET_FRAME;
    }

    /** What follows the Ethernet header. */
    @Override
    protected Bytes fusedYields() {
        return Bytes.ETHERNET_PAYLOAD;
    }

    /** An untagged header's 14 bytes. */
    @Override
    protected int fusedHeaderLength() {
        return EthernetHeader.LENGTH;
    }

    /**
     * Accepts untagged frames, recording the addresses and ethertype; truncated and tagged ones
     * take the layered path.
     */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        if (EthernetHeader.headerLength(buf, index, fields.end() - index) != EthernetHeader.LENGTH) {
            return -1; // truncated or tagged
        }
        fields.destinationMac(EthernetHeader.destination(buf, index));
        fields.sourceMac(EthernetHeader.source(buf, index));
        fields.etherType(EthernetHeader.outerType(buf, index));
        return index + EthernetHeader.LENGTH;
    }

    /** Writes an untagged header from the fields. */
    @Override
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
        EthernetHeader.set(buf, index, fields.destinationMac(), fields.sourceMac(), fields.etherType());
    }
}
