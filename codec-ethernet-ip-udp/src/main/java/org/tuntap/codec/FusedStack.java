package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.buffer.Headroom;

import java.util.List;

/**
 * A run of adjacent {@link LayerHandler}s in a pipeline, bottom to top (say PI, IPv4, UDP), that
 * handles the common path in one step: inbound, the bottom layer's read runs every layer's
 * {@link LayerHandler#fusedDecode} over the same buffer and the top fires one message;
 * outbound, the top's write builds every layer's header into one buffer and writes it from the
 * bottom. No intermediate messages, no derived buffers, one dispatch each way.
 *
 * <p>Outbound, the packet buffer is the cheapest of three: the very buffer the stack delivered
 * inbound, when the application writes it back from within that read (an echo, a relay) and
 * nobody but that read holds it: its old headers' room takes the new ones, nothing is
 * allocated (its reader index moves back over them, as a channel moves a written buffer's); a new
 * buffer holding headers and payload, when the payload is at most {@link #COPY_THRESHOLD} bytes
 * (copying a small payload costs less than a composite and a gathering write); else a
 * {@link Headroom} composite, the payload never copied.
 *
 * <p>With a {@link FusedWriteMerger} below the bottom (a coalescing handler with USO on a TUN or
 * TAP device), a written datagram first tries to join the merger's open super-packet: then only its
 * payload is copied there, no header built. Else it starts the next super-packet, built whole in
 * the merger's buffer (payload copied: the super-packet is one buffer).
 */
public final class FusedStack {

    /** Largest payload copied next to its headers rather than referenced by a composite. */
    public static final int COPY_THRESHOLD = 1024;

    private final LayerHandler[] layers;
    /*
     * What each direction runs, worked out once (the layers are megamorphic calls): the layers
     * that check a read packet, those that route a write, those that write a header (with where,
     * counted back from the top's payload). Transparent layers are in none of them.
     */
    private final LayerHandler[] decoders;
    private final LayerHandler[] routers;
    private final LayerHandler[] encoders;
    private final int[] encoderOffsets;
    private final ChannelHandlerContext bottomContext;
    private final ChannelHandlerContext topContext;
    /** The handler below the bottom that merges written packets into super-packets, or null. */
    private final FusedWriteMerger merger;
    private final FusedFields fields = new FusedFields();
    private final int headerLength;
    /** The bytes in front of the IP header: the Ethernet header's on TAP, 0 on TUN. */
    private final int linkHeaderLength;
    /** The buffer being delivered inbound, while the top's fire is running; else null. */
    private ByteBuf delivering;
    /** What the stack was found in. */
    private final StackShape shape;

    private FusedStack(LayerHandler[] layers, ChannelHandlerContext bottomContext, ChannelHandlerContext topContext,
                       FusedWriteMerger merger, StackShape shape) {
        this.layers = layers;
        this.shape = shape;
        this.bottomContext = bottomContext;
        this.topContext = topContext;
        this.merger = merger;
        int decoding = 0;
        int encoding = 0;
        int length = 0;
        for (LayerHandler layer : layers) {
            length += layer.fusedHeaderLength();
            if (layer.fusedTransparentOver() == null) {
                decoding++;
                encoding += layer.fusedHeaderLength() > 0 ? 1 : 0;
            }
        }
        this.headerLength = length;
        this.linkHeaderLength = layers[0].fusedTakes() == LayerHandler.Bytes.ETHERNET_FRAME ? layers[0].fusedHeaderLength() : 0;
        this.decoders = new LayerHandler[decoding];
        this.routers = new LayerHandler[Math.max(decoding - 1, 0)];
        this.encoders = new LayerHandler[encoding];
        this.encoderOffsets = new int[encoding];
        int decoder = decoding; // filled from the end: the loop goes top down, decoding bottom up
        int router = 0;
        int encoder = 0;
        int above = 0; // header bytes of this layer and those above it
        for (int i = layers.length - 1; i >= 0; i--) {
            LayerHandler layer = layers[i];
            above += layer.fusedHeaderLength();
            if (layer.fusedTransparentOver() != null) {
                continue;
            }
            decoders[--decoder] = layer;
            if (i < layers.length - 1) {
                routers[router++] = layer;
            }
            if (layer.fusedHeaderLength() > 0) {
                encoders[encoder] = layer;
                encoderOffsets[encoder++] = above;
            }
        }
    }

    /**
     * The stack {@code self} (in {@code ctx}) is part of: the adjacent fusing layers around it,
     * from the lowest up to the first top layer at or above it; null when there is none or the
     * layers do not fit together.
     */
    static FusedStack find(ChannelHandlerContext ctx, LayerHandler self) {
        if (ctx.isRemoved()) {
            return null;
        }
        ChannelPipeline pipeline = ctx.pipeline();
        List<String> names = pipeline.names();
        int at = names.indexOf(ctx.name());
        if (at < 0) {
            return null;
        }
        int top = at;
        LayerHandler topLayer;
        while ((topLayer = fusing(pipeline, names, top)) != null && topLayer.fusedYields() != null) {
            if (++top == names.size()) {
                return null;
            }
        }
        if (topLayer == null) {
            return null;
        }
        int bottom = top;
        LayerHandler below;
        while (bottom > 0 && (below = fusing(pipeline, names, bottom - 1)) != null && below.fusedYields() != null
                && below.fusedYields() == fusing(pipeline, names, bottom).fusedTakes()) {
            bottom--;
        }
        if (bottom > at || top == bottom) {
            return null;
        }
        LayerHandler[] layers = new LayerHandler[top - bottom + 1];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = fusing(pipeline, names, bottom + i);
        }
        LayerHandler.Bytes device = layers[0].fusedTakes();
        FusedWriteMerger merger = device == LayerHandler.Bytes.IP_PACKET || device == LayerHandler.Bytes.ETHERNET_FRAME
                ? mergerBelow(pipeline, names, bottom) : null;
        FusedStack stack = new FusedStack(layers, pipeline.context(names.get(bottom)), pipeline.context(names.get(top)),
                merger, new StackShape(pipeline, names, top, layers));
        for (LayerHandler layer : layers) { // one instance for all: what the bottom reads, the top may write in place
            layer.stack = stack;
            layer.stackKnown = true;
        }
        return stack;
    }

    /**
     * The {@link FusedWriteMerger} the stack's writes reach first, below {@code bottom}: handlers
     * that only see inbound messages are passed over, any other outbound handler ends the search
     * (it must see every packet as written).
     */
    private static FusedWriteMerger mergerBelow(ChannelPipeline pipeline, List<String> names, int bottom) {
        for (int i = bottom - 1; i >= 0; i--) {
            ChannelHandler handler = pipeline.get(names.get(i));
            if (handler instanceof FusedWriteMerger merger) {
                return merger;
            }
            if (handler instanceof ChannelOutboundHandler) {
                return null;
            }
        }
        return null;
    }

    private static LayerHandler fusing(ChannelPipeline pipeline, List<String> names, int index) {
        ChannelHandler handler = pipeline.get(names.get(index));
        return handler instanceof LayerHandler layer && layer.fusedHeaderLength() >= 0 ? layer : null;
    }

    /** Whether {@code pipeline} still holds this stack as {@link #find} found it. */
    boolean stillHolds(ChannelPipeline pipeline) {
        return shape.holds(pipeline);
    }

    boolean isBottom(LayerHandler layer) {
        return layers[0] == layer;
    }

    /** Whether {@code layer} is this stack's top, whose writes the stack builds. */
    public boolean isTop(LayerHandler layer) {
        return layers[layers.length - 1] == layer;
    }

    /** The fields the layers share; the top fills the outbound ones before {@link #write}. */
    public FusedFields fields() {
        return fields;
    }

    /**
     * Inbound: runs the packet through every layer. Returns false, the packet untouched, when
     * some layer leaves it to the layered path; else the top has taken it over.
     */
    boolean read(ByteBuf packet) throws Exception {
        FusedFields f = fields;
        f.end(packet.writerIndex());
        int index = packet.readerIndex();
        for (LayerHandler layer : decoders) {
            index = layer.fusedDecode(packet, index, f);
            if (index < 0) {
                return false;
            }
        }
        delivering = packet;
        try {
            layers[layers.length - 1].fusedDeliver(topContext, packet, index, f);
        } finally {
            delivering = null;
        }
        return true;
    }

    /**
     * Outbound, called by the top layer with {@link #fields()} filled: builds every layer's
     * header in front of {@code payload} and writes the packet from the bottom layer (or hands it
     * to the {@link FusedWriteMerger} below, whose open super-packet it may join with its payload
     * alone). Takes over the caller's reference to {@code payload} when it returns true; returns
     * false, nothing done, when some layer wants the layered path for this packet.
     */
    public boolean write(ByteBuf payload, ChannelPromise promise) {
        FusedFields f = fields;
        for (LayerHandler layer : routers) { // top down
            if (!layer.fusedRoute(f)) {
                return false;
            }
        }
        ByteBuf packet = null;
        ByteBuf headers;
        int payloadIndex; // in headers' indices
        int payloadLength = payload.readableBytes();
        boolean ownPayload = false;
        boolean merging = false;
        try {
            if (merger != null && merger.join(f, payload, promise)) {
                for (LayerHandler encoder : encoders) {
                    encoder.fusedJoined(f);
                }
                payload.release();
                return true;
            }
            ByteBuf start = merger == null ? null : merger.startBuffer(linkHeaderLength, headerLength, payloadLength);
            if (start != null) {
                merging = true;
                packet = start;
                headers = start;
                payloadIndex = copyBehindHeaders(packet, payload, payloadLength);
            } else if (payload == delivering && payload.readerIndex() >= headerLength && payload.refCnt() <= 2
                    && !payload.isReadOnly()) {
                // Written back from within its own read (an echo, a relay): the bytes in front of
                // the payload are the old headers, nobody's data. Two references at most: the
                // write's, and the read's own (a SimpleChannelInboundHandler releases it after).
                packet = payload.readerIndex(payload.readerIndex() - headerLength);
                headers = packet;
                payloadIndex = packet.readerIndex() + headerLength;
                ownPayload = true; // the payload is the packet now
            } else if (payloadLength <= COPY_THRESHOLD) {
                packet = bottomContext.alloc().buffer(headerLength + payloadLength);
                headers = packet;
                payloadIndex = copyBehindHeaders(packet, payload, payloadLength);
            } else {
                packet = Headroom.prepend(bottomContext.alloc(), payload, headerLength);
                headers = Headroom.headerBuffer(packet);
                payloadIndex = packet.readerIndex() + headerLength;
            }
        } catch (Throwable t) {
            if (packet != null && packet != payload) {
                packet.release();
            }
            ReferenceCountUtil.safeRelease(payload);
            promise.tryFailure(t);
            return true;
        }
        try {
            for (int i = 0; i < encoders.length; i++) { // top down
                encoders[i].fusedEncode(headers, payloadIndex - encoderOffsets[i], f);
            }
        } catch (Throwable t) {
            if (!ownPayload) {
                ReferenceCountUtil.safeRelease(payload);
            }
            packet.release();
            LayerHandler.failEncoding(promise, t);
            return true;
        }
        if (!ownPayload) {
            payload.release();
        }
        if (merging) {
            merger.open(f, packet, promise);
        } else {
            bottomContext.write(packet, promise);
        }
        return true;
    }

    /**
     * Leaves room for the headers at {@code packet}'s writer index and copies the payload behind
     * them; returns where the payload starts.
     */
    private int copyBehindHeaders(ByteBuf packet, ByteBuf payload, int payloadLength) {
        int payloadIndex = packet.writerIndex() + headerLength;
        packet.writerIndex(payloadIndex).writeBytes(payload, payload.readerIndex(), payloadLength);
        return payloadIndex;
    }
}
