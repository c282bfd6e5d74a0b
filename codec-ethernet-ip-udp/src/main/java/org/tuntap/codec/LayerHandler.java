package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseCombiner;

import java.util.List;

/**
 * The base of this module's layer handlers (PI, Ethernet, ARP, IPv4, UDP): each passes one
 * message on per message it takes, directly, with no output lists in between; and layers that
 * sit next to each other in a pipeline run the common path as one {@link FusedStack}.
 *
 * <p>The fused path: when the pipeline holds a run of adjacent layers ending in the UDP layer
 * (say PI, IPv4, UDP), the lowest of them decodes a read packet through all of them in one step
 * and fires the {@code DatagramPacket} from the top, and the top encodes a written
 * {@code DatagramPacket} through all of them into one packet written from the bottom. Each layer
 * still checks and builds its own header (through the hooks below), so a packet takes the fused
 * path only when every layer would have passed it on unchanged; anything else (a malformed
 * packet, IPv6, ARP, a fragment, an unresolved neighbour) takes the layered path, message by
 * message, exactly as if the layers were apart. The run is looked up again at every read batch
 * and every flush, so a handler added between two layers is seen from the next batch on.
 *
 * <p>The hooks are for this module's layers; a subclass elsewhere keeps the defaults (it does
 * not fuse).
 */
public abstract class LayerHandler extends ChannelDuplexHandler {

    /**
     * The fused stack this handler belongs to, or null; valid while {@link #stackKnown}. One
     * instance is shared by all the stack's layers (see {@link FusedStack#find}).
     */
    FusedStack stack;
    boolean stackKnown;

    /** For this module's layers; a subclass elsewhere keeps the hooks' defaults and does not fuse. */
    protected LayerHandler() {
    }

    /**
     * At the bottom of a fused stack, takes a read {@link ByteBuf} through the whole stack when
     * every layer accepts it; anything else goes to {@link #read}.
     */
    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf packet) {
            FusedStack fused = fusedStack(ctx);
            if (fused != null && fused.isBottom(this) && fused.read(packet)) {
                return;
            }
        }
        read(ctx, msg);
    }

    /** The layered path: handle one inbound message (pass it on, or consume and release it). */
    protected abstract void read(ChannelHandlerContext ctx, Object msg) throws Exception;

    /** Doubts the stack, so the next read batch checks it against the pipeline. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        stackKnown = false; // the pipeline may have changed: check at the next batch
        ctx.fireChannelReadComplete();
    }

    /** Doubts the stack, so the next writes check it against the pipeline. */
    @Override
    public void flush(ChannelHandlerContext ctx) throws Exception {
        stackKnown = false;
        ctx.flush();
    }

    /** Doubts the stack: the pipeline has changed. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        stackKnown = false;
    }

    /** Forgets the stack: this handler is no longer part of it. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stackKnown = false;
        stack = null;
    }

    /**
     * The fused stack this handler is part of in {@code ctx}'s pipeline, or null. Once per read
     * batch and per flush it is checked against the pipeline, and found again if that changed.
     */
    protected final FusedStack fusedStack(ChannelHandlerContext ctx) {
        if (!stackKnown) {
            FusedStack known = stack;
            stack = known != null && known.stillHolds(ctx.pipeline()) ? known : FusedStack.find(ctx, this);
            stackKnown = true;
        }
        return stack;
    }

    /**
     * The layered path, inbound: decodes {@code msg} with {@link #decode}, releases it, and fires
     * what it became, the way Netty's {@code MessageToMessageDecoder} does for one output but with
     * no list. A drop (null) fires nothing; a strict-mode {@code DecoderException} propagates to
     * the pipeline after the input is released.
     */
    protected final void decodeAndFire(ChannelHandlerContext ctx, Object msg) {
        Object decoded;
        try {
            decoded = decode(ctx, msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (decoded != null) {
            ctx.fireChannelRead(decoded);
        }
    }

    /**
     * The layered path: one inbound message this layer handles in, what it becomes out, or null
     * when it is dropped (counted). Must not release {@code msg}: the caller does. Layers that
     * decode nothing keep the default.
     */
    protected Object decode(ChannelHandlerContext ctx, Object msg) {
        throw new UnsupportedOperationException(getClass().getName() + " does not decode " + msg.getClass().getName());
    }

    /**
     * The layered path, outbound: encodes {@code msg} with {@link #encode} and writes the result,
     * the way Netty's {@code MessageToMessageEncoder} does for one output but with no list: the
     * input is released, and a failure fails the promise instead of reaching the next handler.
     */
    protected final void encodeAndWrite(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Object encoded = encodeOrFail(ctx, msg, promise);
        if (encoded != null) {
            ctx.write(encoded, promise);
        }
    }

    /**
     * {@link #encode} with {@link #encodeAndWrite}'s rules, for a layer that does more than write
     * the result: the input released; on failure the promise failed and null returned.
     */
    protected final Object encodeOrFail(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Object encoded;
        try {
            encoded = encode(ctx, msg);
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(msg);
            failEncoding(promise, t);
            return null;
        }
        ReferenceCountUtil.release(msg);
        return encoded;
    }

    /** Fails a write's promise with {@code cause}, as an {@link EncoderException} unless it is one. */
    protected static void failEncoding(ChannelPromise promise, Throwable cause) {
        promise.tryFailure(cause instanceof EncoderException ? cause : new EncoderException(cause));
    }

    /**
     * Writes several messages that stand for one (the fragments of a packet): {@code promise}
     * succeeds when every write has, and fails with the first failure. Takes over the messages.
     */
    protected static void writeAll(ChannelHandlerContext ctx, List<?> messages, ChannelPromise promise) {
        if (promise.isVoid()) {
            for (Object message : messages) {
                ctx.write(message, promise);
            }
            return;
        }
        PromiseCombiner all = new PromiseCombiner(ctx.executor());
        for (Object message : messages) {
            all.add(ctx.write(message));
        }
        all.finish(promise);
    }

    /**
     * The layered path: one outbound message this layer handles in, one out (the caller
     * releases the input). Layers that encode nothing keep the default.
     */
    protected Object encode(ChannelHandlerContext ctx, Object msg) throws Exception {
        throw new UnsupportedOperationException(getClass().getName() + " does not encode " + msg.getClass().getName());
    }

    // ---- fused path hooks: the default is "this layer does not fuse" ----

    /** What a layer's bytes are, so the stack fuses only layers that fit on each other. */
    protected enum Bytes {
        /** An IP packet (what a TUN device carries). */
        IP_PACKET,
        /** An Ethernet frame (what a TAP device carries). */
        ETHERNET_FRAME,
        /** What follows an Ethernet header. */
        ETHERNET_PAYLOAD,
        /** What follows an IPv4 header. */
        IPV4_PAYLOAD
    }

    /** What this layer reads, or null for whatever the device gives; a transparent layer's bytes by default. */
    protected Bytes fusedTakes() {
        return fusedTransparentOver();
    }

    /**
     * What this layer passes up, or null when it is the top of a stack (it delivers messages); a
     * transparent layer's bytes by default.
     */
    protected Bytes fusedYields() {
        return fusedTransparentOver();
    }

    /**
     * Inbound, top layer only: takes over {@code buf} (its own bytes start at {@code index}) and
     * fires the message it makes from {@code ctx}.
     */
    protected void fusedDeliver(ChannelHandlerContext ctx, ByteBuf buf, int index, FusedFields fields) throws Exception {
        throw new UnsupportedOperationException(getClass().getName() + " is not the top of a fused stack");
    }

    /**
     * Inbound: checks this layer's header at {@code index} (the layer's bytes end at
     * {@code fields.end()}) and records what the layers above need in {@code fields}.
     *
     * @return where the next layer's bytes start, or -1 when the packet must take the layered
     *         path (this layer would not pass it on unchanged). Must not change any state.
     */
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        return -1;
    }

    /**
     * Outbound: bytes this layer puts in front of the layers above, or -1 if it does not fuse
     * (0 for a transparent layer). Fixed for as long as the layer is in a pipeline; a layer of 0
     * bytes writes nothing, so its {@link #fusedEncode} is not called.
     */
    protected int fusedHeaderLength() {
        return fusedTransparentOver() != null ? 0 : -1;
    }

    /**
     * The bytes this layer takes and passes on unchanged on the fused path, both ways, learning
     * nothing from them; null (the default) when it takes part. A reassembly handler is
     * transparent (fragments never take the fused path), and so are the IPv6 layers (the IPv4
     * layer above them refuses IPv6 there). Its other hooks are then never called: the stack
     * leaves it out.
     */
    protected Bytes fusedTransparentOver() {
        return null;
    }

    /**
     * Outbound, before anything is built: decides what this layer needs from {@code fields}
     * (say, the destination's MAC address), recording it there.
     *
     * @return false when the packet must take the layered path instead
     */
    protected boolean fusedRoute(FusedFields fields) {
        return true;
    }

    /** Outbound: writes this layer's header at {@code index}, in front of the layers above it. */
    protected void fusedEncode(ByteBuf buf, int index, FusedFields fields) {
    }

    /**
     * Outbound, in place of {@link #fusedEncode}: the packet joined a super-packet (see
     * {@link FusedWriteMerger}), so this layer's header is not built: the kernel repeats the
     * first packet's in front of every segment, counting the IPv4 identification up. A layer
     * that counts per packet keeps its count in step here.
     */
    protected void fusedJoined(FusedFields fields) {
    }
}
