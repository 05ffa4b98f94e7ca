// The feed page: live room cards and the "Create room" dialog.
import { connectFeed } from "./cards.js";
import { setUpCreateRoom } from "./create-room.js";

setUpCreateRoom();
connectFeed();
document.body.dataset.ready = "true";
